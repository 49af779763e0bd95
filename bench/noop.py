"""The raw-engine baseline: a trivial workflow that runs one no-op activity, then waits for a signal.

Kept in its own module with nothing but temporalio imports, so the sandbox loads as little as possible and
the baseline measures Temporal (server, SDK, worker) and nothing of the service.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

TASK_QUEUE = "bench-raw"


class Landed:
    """In-process notice that a baseline workflow's activity ran (the worker runs in this process)."""

    def __init__(self) -> None:
        self.events: dict[str, asyncio.Event] = {}

    def expect(self, workflow_id: str) -> asyncio.Event:
        return self.events.setdefault(workflow_id, asyncio.Event())

    @activity.defn(name="bench_noop")
    async def noop(self) -> None:
        self.expect(activity.info().workflow_id or "").set()


@workflow.defn(name="BenchNoop")
class Noop:
    def __init__(self) -> None:
        self._done = False
        self._pokes = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.execute_activity("bench_noop", start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(lambda: self._done)
        return self._pokes

    @workflow.update
    def poke(self) -> int:
        self._pokes += 1
        return self._pokes

    @workflow.signal
    def finish(self) -> None:
        self._done = True
