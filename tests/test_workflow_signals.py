"""Inbound channels that cannot wait for an answer send signals; operations read each complaint at a glance.

A signal is applied by the same rules as the matching Update; one the rules refuse is recorded on the case
as a refused event and staff are told, never dropped. The Temporal UI shows each complaint's static summary
(set at start, no personal data) and its current details (stage, status, next deadline, assignee, overdue).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from api.intake import open_case
from core.temporal import workflow_id
from domain import commands as cmd
from domain.models import ComplaintState, Outcome, Status
from domain.policy import Policy
from tests.factories import (
    INVESTIGATOR,
    OFFICER,
    act,
    intake,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    state_of,
    trail_of,
    weekdays_after,
)
from workflows.complaint import ComplaintWorkflow


async def _details(handle: WorkflowHandle[ComplaintWorkflow, ComplaintState]) -> str:
    metadata: WorkflowMetadata = await handle.query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    return metadata.current_details


async def _settled(
    pool: asyncpg.Pool, handle: WorkflowHandle[ComplaintWorkflow, ComplaintState]
) -> ComplaintState:
    """The state once every event of it is in the read model (a signal is applied after `signal` returns)."""
    for _ in range(200):
        state = await state_of(handle)
        recorded = await pool.fetchval(
            "SELECT last_seq FROM complaints WHERE reference = $1", state.reference
        )
        if recorded == state.seq:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError("the read model never caught up with the workflow")


async def _events(pool: asyncpg.Pool, reference: str) -> list[tuple[str, str, str]]:
    rows = await pool.fetch(
        "SELECT action, actor_id, to_status FROM complaint_events WHERE reference = $1 ORDER BY seq",
        reference,
    )
    return [(row["action"], row["actor_id"], row["to_status"]) for row in rows]


async def test_signals_apply_the_same_rules_and_a_refused_one_is_recorded_and_staff_told(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(
            temporal_env, task_queue, intake("bexley", received), policy=policies["bexley"]
        )
        reference = (await state_of(handle)).reference
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))

        await handle.signal(
            "new_information", cmd.NewInformationSignal(text="Photos of the damp", channel="email")
        )
        # Stage 2 before any response: the rules refuse it; the complaint does not move.
        await handle.signal(
            "escalation_request", cmd.EscalationRequestSignal(reasons="Not happy", channel="letter")
        )
        state = await _settled(pool, handle)
        while state.recent[-1].action != "signal_refused":
            state = await _settled(pool, handle)
        assert state.status is Status.ACKNOWLEDGED
        trail = await trail_of(pool, state.reference)
        assert [event.action for event in trail][-2:] == ["add_information", "signal_refused"]
        refused = trail[-1]
        assert refused.detail["signal"] == "escalation_request"
        assert "cannot request escalation while the complaint is acknowledged" in refused.detail["reason"]
        # The message's text is on the event trail in PostgreSQL; the workflow only counts it.
        information = trail[-2]
        assert (
            information.detail["summary"] == "Photos of the damp" and information.actor_id == "inbound-email"
        )
        assert state.information_received == 1
        # Staff are told about both: the new information and the message that needs a person.
        staff = await pool.fetch(
            "SELECT template, recipient FROM notifications WHERE reference = $1 AND audience = 'staff'"
            " ORDER BY seq",
            reference,
        )
        assert [(row["template"], row["recipient"]) for row in staff][-2:] == [
            ("new_information", INVESTIGATOR.id),
            ("signal_refused", INVESTIGATOR.id),
        ]

        await act(
            handle,
            "respond",
            cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault"),
        )
        # Without reasons (the Code: a resident must not be required to give them), by post.
        await handle.signal("escalation_request", cmd.EscalationRequestSignal(channel="letter"))
        state = await _settled(pool, handle)
        while state.status is not Status.ESCALATION_REQUESTED:
            state = await _settled(pool, handle)
        assert state.status is Status.ESCALATION_REQUESTED and state.stage == 2
        events = await _events(pool, reference)
        assert events[-1] == ("request_escalation", "inbound-letter", "escalation_requested")
        assert ("signal_refused", "system", "acknowledged") in events


async def test_a_message_delivered_late_is_recorded_when_it_arrived_not_when_it_was_processed(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """Issue 27: an e-mail the inbound sweep delivers after an outage keeps the time it arrived."""
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(
            temporal_env, task_queue, intake("bexley", received), policy=policies["bexley"]
        )
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        arrived = received + timedelta(hours=2)
        await temporal_env.sleep(timedelta(days=2))  # the outage: processed two days after it arrived
        late = cmd.NewInformationSignal(text="Photos of the damp", channel="email", received_at=arrived)
        await handle.signal("new_information", late)
        state = await _settled(pool, handle)
        while state.information_received < 1:
            state = await _settled(pool, handle)
        information = (await trail_of(pool, state.reference))[-1]
        assert information.action == "add_information"
        assert information.at >= received + timedelta(days=2)
        assert datetime.fromisoformat(information.detail["received_at"]) == arrived

        # A sender's clock ahead of ours does not lose the message: it is taken as arrived now.
        ahead = cmd.NewInformationSignal(
            text="More photos", channel="email", received_at=datetime.now(UTC) + timedelta(days=3650)
        )
        await handle.signal("new_information", ahead)
        while state.information_received < 2:
            state = await _settled(pool, handle)
        information = (await trail_of(pool, state.reference))[-1]
        assert information.action == "add_information"
        assert datetime.fromisoformat(information.detail["received_at"]) <= information.at

        # Staff logging information by hand cannot date it in the future.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(
                handle,
                "add_information",
                cmd.AddInformation(
                    actor=OFFICER, summary="A call", received_at=datetime.now(UTC) + timedelta(days=3650)
                ),
            )
        assert "cannot have arrived in the future" in str(refused.value.cause)


async def test_the_ui_shows_a_summary_and_current_details_without_personal_data(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        monday = received.date()
        handle = await open_complaint(
            temporal_env, task_queue, intake("bexley", received), policy=policies["bexley"]
        )
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        details = await _details(handle)
        assert "Stage 1 (Investigation): acknowledged" in details
        assert f"Next deadline: {weekdays_after(monday, 15).isoformat()}" in details
        assert "Assigned to: nobody yet" in details and "Overdue: no" in details
        await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        await act(handle, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Late"))
        details = await _details(handle)
        assert (
            "Stage 1 (Investigation): responded" in details and f"Assigned to: {INVESTIGATOR.id}" in details
        )
        for personal in ("Ada Resident", "ada@example.org", "Damp in the bedroom"):
            assert personal not in details


async def test_a_complaint_opened_through_intake_has_its_summary_and_its_first_record(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        reference = await open_case(
            pool=pool,
            temporal=temporal_env.client,
            task_queue=task_queue,
            policy=policies["bexley"],
            intake=intake("bexley", received),
            actor=OFFICER,
        )
        # The workflow wrote the case row before the intake returned: no polling, no row without a workflow.
        row = await pool.fetchrow(
            "SELECT status, last_seq, respond_by FROM complaints WHERE reference = $1", reference
        )
        assert row is not None and (row["status"], row["last_seq"]) == ("received", 0)
        assert row["respond_by"] == weekdays_after(received.date(), 15)
        description = await temporal_env.client.get_workflow_handle(workflow_id(reference)).describe()
        summary = await description.static_summary()
        assert summary == f"{reference} · London Borough of Bexley · housing-repairs · by email"
