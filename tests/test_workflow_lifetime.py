"""Long life of a complaint: linked complaints, continue-as-new, recalculation, idempotent records."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.client import WorkflowQueryFailedError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.deadlines import DeadlineActivities, PlanStage
from activities.records import RecordActivities, RecordEvent
from core.temporal import workflow_id
from domain import commands as cmd
from domain.models import CaseRow, ComplaintState, Notification, OpenComplaint, StageState, Status, Transition
from domain.policy import Policy
from tests.factories import (
    INVESTIGATOR,
    LONDON,
    MANAGER,
    OFFICER,
    act,
    intake,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    state_of,
    weekdays_after,
)
from workflows.complaint import ComplaintWorkflow


async def test_an_unrelated_issue_opens_a_linked_stage_1_complaint(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env)
        reference = f"LINK-{uuid.uuid4().hex[:6]}"
        handle = await env.client.start_workflow(
            ComplaintWorkflow.run,
            OpenComplaint(reference=reference, intake=intake("bexley", received), opened_by=OFFICER),
            id=workflow_id(reference),
            task_queue=task_queue,
        )
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await env.sleep(timedelta(days=2))  # Wednesday
        state = await act(
            handle,
            "open_linked_complaint",
            cmd.OpenLinkedComplaint(
                actor=OFFICER, summary="Also: the bin was not collected.", service_area="waste"
            ),
        )
        linked = state.related_complaints[0]
        child_state = await _when_opened(env, workflow_id(linked))
        assert child_state.status is Status.RECEIVED
        assert child_state.intake.related_to == reference
        assert child_state.intake.service_area == "waste"
        # Its own Stage 1 clock, from Wednesday: acknowledge by Friday.
        assert child_state.current.plan.acknowledge.on == weekdays_after(received.date(), 4)
        # Its case row is written by its own first activity, a moment after its state exists.
        row = None
        for _ in range(100):
            row = await pool.fetchrow(
                "SELECT related_to, status, complainant_name, complainant->>'email' AS email FROM complaints"
                " WHERE reference = $1 AND last_seq >= 0",
                linked,
            )
            if row is not None:
                break
            await asyncio.sleep(0.05)
        assert row is not None and (row["related_to"], row["status"]) == (reference, "received")
        # The same complainant, copied from the first complaint's case record (never through the workflow).
        parent = await pool.fetchrow(
            "SELECT complainant_name, complainant->>'email' AS email FROM complaints WHERE reference = $1",
            reference,
        )
        assert parent is not None and parent["complainant_name"] == "Ada Resident"
        assert (row["complainant_name"], row["email"]) == (parent["complainant_name"], parent["email"])
        # The original complaint carries on undisturbed.
        assert (await state_of(handle)).status is Status.ACKNOWLEDGED


async def _when_opened(env: WorkflowEnvironment, wid: str) -> ComplaintState:
    """The state of a workflow another one just started, once it has planned its deadlines."""
    handle = env.client.get_workflow_handle(wid)
    for _ in range(100):
        try:
            state: ComplaintState = await handle.query(ComplaintWorkflow.state)
            return state
        except WorkflowQueryFailedError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{wid} never opened")


@pytest.mark.parametrize(
    ("policy_id", "limit_days", "ombudsman_letter"),
    [
        ("bexley", 25, False),  # respond in 15, extend by 10; LGSCO after the council's process
        ("westminster", 20, True),  # respond in 10, extend by 10; early referral allowed
    ],
)
async def test_extension_limit_passing_without_a_response_alerts_and_signposts(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
    limit_days: int,
    ombudsman_letter: bool,
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env, days=60)
        handle = await open_complaint(env, task_queue, intake(policy_id, received))
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await env.sleep(timedelta(days=37))  # 5 weeks + 2 days: past both limits
        state = await state_of(handle)
        assert state.current.extension_limit_passed
        assert state.current.extension_limit_by == weekdays_after(received.date(), limit_days)
        sent = await pool.fetch(
            "SELECT template, audience FROM notifications WHERE reference = $1 ORDER BY seq, id",
            state.reference,
        )
        pairs = [(row["template"], row["audience"]) for row in sent]
        assert (("ombudsman_available", "complainant") in pairs) is ombudsman_letter
        assert pairs.count(("overdue_alert", "manager")) == 2  # response overdue, then the limit passed


async def test_continue_as_new_carries_the_whole_state(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env)
        reference = f"CAN-{uuid.uuid4().hex[:6]}"
        handle = await env.client.start_workflow(
            ComplaintWorkflow.run,
            OpenComplaint(
                reference=reference,
                intake=intake("bexley", received),
                opened_by=OFFICER,
                continue_as_new_after_events=60,
            ),
            id=workflow_id(reference),
            task_queue=task_queue,
        )
        first_run = (await handle.describe()).run_id
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        for number in range(12):
            await act(
                handle, "add_note", cmd.AddNote(actor=INVESTIGATOR, text=f"Visited the property ({number}).")
            )
        latest = env.client.get_workflow_handle(workflow_id(reference))
        assert (await latest.describe()).run_id != first_run
        state: ComplaintState = await latest.query(ComplaintWorkflow.state)
        assert state.status is Status.ACKNOWLEDGED
        assert state.notes_added == 12
        assert state.current.respond_by == weekdays_after(received.date(), 15)
        # Timers survive the hand-over: the response still goes overdue on its day.
        await env.sleep(timedelta(days=22))
        assert (await latest.query(ComplaintWorkflow.state)).overdue


async def test_recalculation_applies_new_holiday_data_only_when_asked(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    live = dict(policies)  # the worker's policy data, updated below as new holiday data would be
    async with running_worker(env, pool, live, task_queue):
        received = await start_in_quiet_week(env)
        monday = received.date()
        handle = await open_complaint(env, task_queue, intake("bexley", received))
        assert (await state_of(handle)).current.respond_by == weekdays_after(monday, 15)
        # A one-off bank holiday is announced for the Tuesday of the second week.
        one_off = weekdays_after(monday, 6)
        bexley = live["bexley"]
        live["bexley"] = bexley.model_copy(update={"closure_days": (*bexley.closure_days, one_off)})
        state = await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        assert state.current.respond_by == weekdays_after(monday, 15)  # fixed when the stage started
        state = await act(
            handle,
            "recalculate_deadlines",
            cmd.RecalculateDeadlines(actor=MANAGER, reason="Extra bank holiday"),
        )
        assert state.current.respond_by == weekdays_after(monday, 16)
        assert state.current.ledger[-1].kind == "recalculated"


async def test_recording_an_event_twice_writes_it_once(
    pool: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    now = datetime.now(UTC)
    reference = f"IDEM-{uuid.uuid4().hex[:6]}"
    environment = ActivityEnvironment()
    plan = await environment.run(
        DeadlineActivities(policies).plan_stage, PlanStage(policy_id="bexley", stage=1, received_at=now)
    )
    stage = StageState(
        number=1, received_at=now, plan=plan, respond_by=plan.respond.on, extension_limit_by=None
    )
    received = intake("bexley", now)
    state = ComplaintState(
        reference=reference, intake=received.facts(), status=Status.RECEIVED, stage=1, stages=[stage]
    )
    transition = Transition(
        seq=0,
        at=now,
        action="receive",
        actor=OFFICER,
        stage=1,
        from_status=Status.RECEIVED,
        to_status=Status.RECEIVED,
    )
    event = RecordEvent(
        workflow_id=workflow_id(reference),
        created_by=OFFICER.id,
        reference=reference,
        seq=0,
        row=CaseRow.of(state),
        intake=received,
        transition=transition,
        notifications=[Notification(template="new_complaint", audience="staff", recipient="complaints-team")],
    )
    activities = RecordActivities(pool)
    for _ in range(3):  # a retried activity, a worker that crashed after writing
        await environment.run(activities.record_event, event)
    counts = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM complaints WHERE reference = $1) AS cases,"
        " (SELECT count(*) FROM complaint_events WHERE reference = $1) AS events,"
        " (SELECT count(*) FROM notifications WHERE reference = $1) AS queued",
        reference,
    )
    assert counts is not None and dict(counts) == {"cases": 1, "events": 1, "queued": 1}
    # An older event arriving late never overwrites newer state.
    newer = event.model_copy(deep=True)
    assert newer.row is not None
    newer.seq = 5
    newer.row.status = Status.ACKNOWLEDGED
    newer.transition = None
    await environment.run(activities.record_event, newer)
    await environment.run(activities.record_event, event)
    status = await pool.fetchval("SELECT status FROM complaints WHERE reference = $1", reference)
    assert status == "acknowledged"


async def test_search_attributes_follow_the_complaint(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """What operations filter on in the Temporal UI: status, stage, assignee, next deadline and overdue."""
    env = temporal_env

    async def attributes() -> dict[str, object]:
        description = await handle.describe()
        return {key.name: value for key, value in description.typed_search_attributes}

    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env)
        handle = await open_complaint(env, task_queue, intake("bexley", received))
        await state_of(handle)
        found = await attributes()
        ack_due = weekdays_after(received.date(), 2)
        assert (found["Policy"], found["Stage"], found["ComplaintStatus"]) == ("bexley", 1, "received")
        assert found["Overdue"] is False
        assert isinstance(found["NextDeadline"], datetime)
        assert found["NextDeadline"].astimezone(LONDON).date() == ack_due
        await env.sleep(timedelta(days=3))  # the acknowledgement is now late
        assert (await attributes())["Overdue"] is True
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        found = await attributes()
        assert (found["ComplaintStatus"], found["AssignedTo"], found["Overdue"]) == (
            "acknowledged",
            "ian.investigator",
            False,
        )
        assert isinstance(found["NextDeadline"], datetime)
        assert found["NextDeadline"].astimezone(LONDON).date() == weekdays_after(received.date(), 15)
