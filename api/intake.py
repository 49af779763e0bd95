"""Opening a case: store the intake and start its workflow. Used by the API and the demo seeding."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import asyncpg
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy

from core import search_attributes as sa
from core.temporal import workflow_id
from domain.models import Actor, Intake, OpenComplaint, Status
from domain.policy import Policy
from store.complaints import ComplaintRepository
from workflows.complaint import ComplaintWorkflow


async def open_case(
    *, pool: asyncpg.Pool, temporal: Client, task_queue: str, policy: Policy, intake: Intake, actor: Actor
) -> str:
    """Store the complaint and start workflow `complaint-<reference>`; return the reference."""
    repository = ComplaintRepository(pool)
    year = intake.received_at.astimezone(ZoneInfo(policy.timezone)).year
    reference = await repository.next_reference(year=year)
    wid = workflow_id(reference)
    # Stored first so nothing is lost if Temporal is briefly unreachable; the workflow's first activity
    # writes the same row idempotently.
    await repository.insert_intake(reference=reference, workflow_id=wid, intake=intake, created_by=actor.id)
    await temporal.start_workflow(
        ComplaintWorkflow.run,
        OpenComplaint(reference=reference, intake=intake, opened_by=actor),
        id=wid,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        # Set at start so the complaint is filterable in the Web UI before its first workflow task runs.
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.POLICY, intake.policy_id),
                SearchAttributePair(sa.STAGE, 1),
                SearchAttributePair(sa.STATUS, Status.RECEIVED.value),
                SearchAttributePair(sa.SERVICE_AREA, intake.service_area),
                SearchAttributePair(sa.OVERDUE, False),
            ]
        ),
    )
    return reference
