"""Running a lifecycle action as a Temporal Update, for the staff routes and the resident service alike:
one place that turns the workflow's refusals into problem responses."""

from __future__ import annotations

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ProblemError
from core.temporal import workflow_id
from domain import commands as cmd
from domain.models import Receipt
from store.complaints import ComplaintRecord


async def run_action(
    action: str,
    command: cmd.Command,
    complaint: ComplaintRecord,
    temporal: Client,
    update_id: str | None = None,
) -> Receipt:
    """Run the action as a Temporal Update. With an Idempotency-Key the update id is derived from it, so
    Temporal itself refuses to apply a retried request twice, even if the API failed after the update ran."""
    handle = temporal.get_workflow_handle(workflow_id(complaint.reference))
    try:
        receipt: Receipt = await handle.execute_update(action, command, id=update_id, result_type=Receipt)
        return receipt
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
        if isinstance(cause, ApplicationError) and cause.type == "StaleState":
            raise ProblemError(412, "Precondition failed", message, "stale") from error
        if isinstance(cause, ApplicationError) and cause.type == "Unrecordable":
            raise ProblemError(422, "Invalid request", message, "unrecordable") from error
        raise ProblemError(409, "Not possible now", message, "transition-refused") from error
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise ProblemError(
                409, "Not possible now", "this complaint no longer accepts actions (its case is archived)"
            ) from error
        raise
