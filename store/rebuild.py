"""Rebuild the read model from the workflows: Temporal owns the lifecycle, so the case rows and the event
trail can always be recreated from each complaint's workflow state (after a restore, or a lost write)."""

from __future__ import annotations

import logging

import asyncpg
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from domain.facts import stage_facts, with_code_clock
from domain.models import ComplaintState
from domain.policy import Policy
from store.complaints import ComplaintRepository, apply_to_side_records
from store.queue_counts import rebuild_queue_counts
from store.report_summary import rebuild_report_summary

log = logging.getLogger(__name__)

COMPLAINTS_QUERY = 'WorkflowType = "Complaint"'


async def rebuild_read_model(
    client: Client,
    pool: asyncpg.Pool,
    query: str = COMPLAINTS_QUERY,
    policies: dict[str, Policy] | None = None,
) -> int:
    """Write every complaint's current state and transitions to Postgres; return how many were rebuilt.

    With the councils' policies, each stage's report facts too (complaint_stages), including those of
    complaints that started before reporting was added.

    Idempotent: rows already up to date are left as they are (the same keys as the record activity).
    """
    repository = ComplaintRepository(pool)
    rebuilt = 0
    seen: set[str] = set()
    async for execution in client.list_workflows(query):
        if execution.id in seen:  # earlier runs of a workflow that continued as new
            continue
        seen.add(execution.id)
        handle = client.get_workflow_handle(execution.id)
        try:
            state: ComplaintState = await handle.query("state", result_type=ComplaintState)
        except (WorkflowQueryFailedError, RPCError) as error:
            log.warning("could not read %s: %s", execution.id, error)
            continue
        policy = (policies or {}).get(state.intake.policy_id)
        await write_workflow_state(repository, workflow_id=execution.id, state=state, policy=policy)
        rebuilt += 1
    # The triggers kept the monthly report summaries in step with each stage row written above; recomputing
    # them from every stage row also repairs any drift (rows loaded with the triggers off, say).
    await rebuild_report_summary(pool)
    await rebuild_queue_counts(pool)  # the console's queue counters (migration 421), likewise
    return rebuilt


async def write_workflow_state(
    repository: ComplaintRepository, *, workflow_id: str, state: ComplaintState, policy: Policy | None = None
) -> None:
    """Bring one complaint's case row, event trail and (with its policy) report facts in line with its
    workflow's state (idempotent). Used by the rebuild and by the nightly reconciliation."""
    opened_by = state.recent[0].actor.id if state.recent and state.recent[0].seq == 0 else "system"
    stages = (
        [with_code_clock(stage_facts(state, policy, stage.number), policy) for stage in state.stages]
        if policy
        else None
    )
    await repository.apply_event(
        workflow_id=workflow_id,
        state=state,
        transition=None,
        notifications=[],
        created_by=opened_by,
        stages=stages,
    )
    # The event trail's rows are PostgreSQL's (with their text); the workflow keeps its last few events
    # without text, so rows lost since the last backup are put back, as far as they can be.
    await repository.insert_transitions(
        workflow_id=workflow_id, reference=state.reference, transitions=state.recent
    )
    for transition in state.recent:
        await apply_to_side_records(repository.executor, reference=state.reference, transition=transition)
