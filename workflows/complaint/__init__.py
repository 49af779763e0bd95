"""The complaint workflow package: the workflow class (`workflow.py`) and how it reaches the world
(`effects.py`). The rules, steps, timers and letters it sequences are pure domain code in `domain/`."""

from workflows.complaint.workflow import ComplaintWorkflow

__all__ = ["ComplaintWorkflow"]
