"""Moving long-waiting complaints to the code now deployed (docs/upgrading.md).

A complaint's workflow may wait months (a promised action, the ombudsman's window) on the code it started
with: every `workflow.patched` branch it went through stays until it ends. After a deployment, an operator
runs `complaints move-to-current-code`: every running complaint whose `CodeVersion` search attribute is not
this release's is signalled `move_to_current_code`, and continues as new at its next safe point (no action
half-applied), so its new run starts on the current code, with its state and timers, and records the
current version. Run it once every worker runs the new release (a run moved by an old worker would start
again on the old code, and only need moving again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from temporalio.client import Client

from core import search_attributes as sa
from core.replay_check import workflow_type_names

SIGNAL = "move_to_current_code"


def behind_query(workflows: Sequence[type], current: str, where: str | None = None) -> str:
    """The running complaints that did not start on the `current` code version (or recorded none), and
    match `where` if given (a visibility condition: `Policy = "bexley"` moves one council at a time)."""
    types = ", ".join(f'"{name}"' for name in workflow_type_names(workflows))
    key = sa.CODE_VERSION.name
    query = (
        f'WorkflowType IN ({types}) AND ExecutionStatus = "Running"'
        f' AND ({key} != "{current}" OR {key} IS NULL)'
    )
    return f"{query} AND ({where})" if where else query


@dataclass
class Moves:
    """What the command did: the workflows signalled, by the version they were on, and the ones that
    could not be (closed meanwhile, say)."""

    signalled: dict[str, list[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.signalled.values())


async def move_to_current_code(
    client: Client,
    workflows: Sequence[type],
    current: str,
    *,
    where: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
) -> Moves:
    """Signal every running complaint behind `current` to continue as new on this code (at most `limit`)."""
    moves = Moves()
    async for execution in client.list_workflows(behind_query(workflows, current, where)):
        if limit is not None and moves.count + len(moves.failed) >= limit:
            break
        version = execution.typed_search_attributes.get(sa.CODE_VERSION) or "none"
        if not dry_run:
            try:
                await client.get_workflow_handle(execution.id, run_id=execution.run_id).signal(SIGNAL)
            except Exception as error:  # one complaint must not stop the others: reported, run again
                moves.failed[execution.id] = str(error)
                continue
        moves.signalled.setdefault(version, []).append(execution.id)
    return moves
