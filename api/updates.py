"""Running a lifecycle action as a Temporal Update, for the staff routes and the resident service alike:
one place that turns the workflow's refusals into problem responses."""

from __future__ import annotations

import logging

import asyncpg
from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ProblemError
from core.stuck import STUCK_MESSAGE, workflow_health
from core.temporal import workflow_id
from domain import commands as cmd
from domain.models import Receipt
from store.complaints import ComplaintRecord
from store.workflow_stuck import record_stuck

log = logging.getLogger(__name__)

# A stuck complaint needs a person to fix the fault: the caller is asked to come back later than after an
# outage.
STUCK_RETRY_AFTER_SECONDS = 300


async def run_action(
    action: str,
    command: cmd.Command,
    complaint: ComplaintRecord,
    temporal: Client,
    update_id: str | None = None,
    pool: asyncpg.Pool | None = None,
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
        if isinstance(cause, ApplicationError) and cause.type == "InvalidInput":
            raise ProblemError(422, "Invalid request", message) from error
        if isinstance(cause, ApplicationError) and cause.type == "Unrecordable":
            raise ProblemError(422, "Invalid request", message, "unrecordable") from error
        raise ProblemError(409, "Not possible now", message, "transition-refused") from error
    except (RPCError, RPCTimeoutOrCancelledError) as error:
        # Not applied: the workflow is closed, unreachable, or stuck. Only a closed one is archived.
        await _unapplied(complaint, temporal, pool, error)
        raise


async def _unapplied(
    complaint: ComplaintRecord, temporal: Client, pool: asyncpg.Pool | None, error: BaseException
) -> None:
    """Say why an action was not applied: a stuck workflow (503, staff alerted), a closed one (409), or an
    outage (the caller's error is re-raised: 503 with Retry-After)."""
    try:
        health = await workflow_health(temporal, workflow_id(complaint.reference))
    except (RPCError, RPCTimeoutOrCancelledError):
        return  # Temporal itself does not answer: an outage
    if health.stuck_attempts:
        log.error(
            "complaint %s is stuck: %s",
            complaint.reference,
            health.reason,
            extra={"reference": complaint.reference},
        )
        if pool is not None:
            await record_stuck(
                pool, reference=complaint.reference, workflow_id=complaint.workflow_id, health=health
            )
        raise ProblemError(
            503,
            "Service unavailable",
            STUCK_MESSAGE,
            "workflow-stuck",
            headers={"Retry-After": str(STUCK_RETRY_AFTER_SECONDS)},
        ) from error
    if not health.running and isinstance(error, RPCError) and error.status in _CLOSED:
        raise ProblemError(
            409, "Not possible now", "this complaint no longer accepts actions (its case is archived)"
        ) from error


_CLOSED = (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)
