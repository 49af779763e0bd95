"""Is a complaint's workflow stuck? A workflow task that keeps failing (a bug, data the code cannot handle)
leaves the complaint where it is: its timers do not fire and staff actions are never accepted. Temporal
retries the task for ever, so nothing fails loudly by itself: this says so, for the API (which then answers
503 saying staff were alerted, not that the case is archived) and the nightly reconciliation, and both
record it in `workflow_stuck` for the `complaints_workflow_stuck` metric and its alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

# Failed attempts of one workflow task before the complaint counts as stuck (a worker restart or an
# outage costs one or two).
STUCK_ATTEMPTS = 3

STUCK_MESSAGE = (
    "This complaint cannot be updated at the moment because of a fault in our system. Our staff have been"
    " alerted and will put it right; nothing was changed. Please try again later."
)


@dataclass(frozen=True)
class Health:
    running: bool  # False: closed, or unknown to Temporal
    stuck_attempts: int = 0  # the pending workflow task's failed attempts, when it counts as stuck
    reason: str = ""


async def workflow_health(client: Client, workflow_id: str) -> Health:
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return Health(running=False)
        raise
    if description.status is not WorkflowExecutionStatus.RUNNING:
        return Health(running=False)
    pending = description.raw_description.pending_workflow_task
    attempts = pending.attempt if description.raw_description.HasField("pending_workflow_task") else 0
    if attempts >= STUCK_ATTEMPTS:
        return Health(True, attempts, f"its workflow task failed {attempts} times in a row")
    return Health(running=True)
