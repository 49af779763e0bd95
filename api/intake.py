"""Opening a case: one Update-with-Start of workflow `complaint-<reference>`. Used by the staff API, the
resident service and the demo seeding.

The workflow is the only writer of its case row: its first event creates it (from the intake), so there is
never a row without a workflow. The `opened` Update answers once that first event is recorded, so the caller
gets the case back in one round trip. A retry with the same Idempotency-Key gets the same reference (kept in
`intake_keys`), and the start is a no-op if the workflow already runs (USE_EXISTING): one complaint, whatever
failed in between.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import asyncpg
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from api.errors import ProblemError
from core import search_attributes as sa
from core.temporal import workflow_id
from domain.models import Actor, Intake, OpenComplaint, Receipt
from domain.policy import Policy
from store.complaints import ComplaintRepository
from workflows.complaint import ComplaintWorkflow
from workflows.complaint.limits import OPENING_TASK_TIMEOUT
from workflows.complaint.version import CODE_VERSION

# How long the caller waits for the first record. Past it the complaint is safely started (or will be, on a
# retry with the same key) and the caller is told to come back (503 with Retry-After). Twice the first run's
# task timeout: a first task no worker answered (a worker gone, a task lost on a loaded server) is handed out
# again after OPENING_TASK_TIMEOUT, and its second attempt still answers inside this wait.
OPEN_TIMEOUT = 2 * OPENING_TASK_TIMEOUT
# As long as an Idempotency-Key lives (IDEMPOTENCY_KEY_TTL_HOURS): a key used again later is a new request.
KEY_TTL = timedelta(hours=24)


def static_summary(reference: str, policy: Policy, intake: Intake) -> str:
    """What the Temporal UI's list shows for the complaint: no personal data."""
    return f"{reference} · {policy.name} · {intake.service_area} · by {intake.channel.value}"


async def reference_for(
    pool: asyncpg.Pool, *, year: int, owner: str, key: str | None, key_ttl: timedelta = KEY_TTL
) -> str:
    """A new reference, or the one an earlier request with the same Idempotency-Key was given (while the
    key lives: after `key_ttl` it is a new request, as for every Idempotency-Key)."""
    repository = ComplaintRepository(pool)
    if key is None:
        return await repository.next_reference(year=year)
    async with pool.acquire() as connection, connection.transaction():
        known = await connection.fetchrow(
            "SELECT reference, created_at > now() - $3::interval AS live FROM intake_keys"
            " WHERE owner = $1 AND key = $2 FOR UPDATE",
            owner,
            key,
            key_ttl,
        )
        if known is not None and known["live"]:
            return str(known["reference"])
        reference = await ComplaintRepository(connection).next_reference(year=year)
        await connection.execute(
            "INSERT INTO intake_keys (owner, key, reference) VALUES ($1, $2, $3)"
            " ON CONFLICT (owner, key) DO UPDATE SET reference = $3, created_at = now()",
            owner,
            key,
            reference,
        )
        return reference


async def open_case(
    *,
    pool: asyncpg.Pool,
    temporal: Client,
    task_queue: str,
    policy: Policy,
    intake: Intake,
    actor: Actor,
    idempotency_key: str | None = None,
    key_owner: str | None = None,
    key_ttl: timedelta = KEY_TTL,
) -> str:
    """Start workflow `complaint-<reference>` and wait for its first record; return the reference. A key is
    scoped to its owner (the staff member, or a resident by e-mail address)."""
    year = intake.received_at.astimezone(ZoneInfo(policy.timezone)).year
    reference = await reference_for(
        pool, year=year, owner=key_owner or actor.id, key=idempotency_key, key_ttl=key_ttl
    )
    start = WithStartWorkflowOperation(
        ComplaintWorkflow.run,
        # The policy is frozen into the complaint here: it runs under this version until it ends.
        OpenComplaint(reference=reference, intake=intake, opened_by=actor, policy=policy),
        id=workflow_id(reference),
        task_queue=task_queue,
        # Short for the first run only (it continues as new with the long one): workflows/complaint/limits.py.
        task_timeout=OPENING_TASK_TIMEOUT,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        # Set at start so the complaint is filterable in the Web UI before its first workflow task runs.
        search_attributes=sa.at_start(intake, CODE_VERSION),
        static_summary=static_summary(reference, policy, intake),
    )
    try:
        receipt: Receipt = await asyncio.wait_for(
            temporal.execute_update_with_start_workflow(
                "opened",
                start_workflow_operation=start,
                id=f"open-{reference}",
                result_type=Receipt,
                # The API's client bounds a call by TEMPORAL_REQUEST_TIMEOUT (core.temporal.RequestDeadline);
                # the opening waits its own time, longer than its first task's timeout.
                rpc_timeout=OPEN_TIMEOUT,
            ),
            OPEN_TIMEOUT.total_seconds(),
        )
    except (
        TimeoutError,
        RPCError,
        WorkflowUpdateFailedError,
        WorkflowUpdateRPCTimeoutOrCancelledError,
    ) as error:
        raise ProblemError(
            503,
            "Service unavailable",
            "the workflow engine (Temporal) did not open the complaint in time; send the same request again"
            + (" with the same Idempotency-Key" if idempotency_key else ""),
            "service-unavailable",
        ) from error
    return receipt.reference
