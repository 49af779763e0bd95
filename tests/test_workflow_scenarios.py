"""Lifecycle scenarios beyond the happy path: clock stops, the escalation window and its closure, refusal of
Stage 2, withdrawal, actions tracked past closure, conflicts of interest and anonymous complaints.

Each complaint is received at 09:00 London on a quiet Monday; expected dates are weekday arithmetic.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.models import ActionItem, Complainant, Outcome, Status
from domain.policy import Policy
from tests.factories import (
    INVESTIGATOR,
    MANAGER,
    OFFICER,
    RESIDENT,
    REVIEWER,
    act,
    state_of,
    weekdays_after,
)
from tests.scenario_helpers import POLICY_TIMINGS, Scenario, context, detail, escalation_by, scenario

RESPONSE = cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="The repair was on time.")
OVERDUE_ACTIONS = {"acknowledgement_overdue", "response_overdue", "reminder_acknowledge", "reminder_respond"}


async def respond_then_escalate(s: Scenario) -> None:
    """Acknowledge on Monday, respond on Tuesday, ask for Stage 2 on Wednesday."""
    await s.responded(RESPONSE)
    await s.move_to(s.day(2), 10)
    await act(
        s.handle,
        "request_escalation",
        cmd.RequestEscalation(actor=RESIDENT, reasons="Not fixed.", outcome_wanted="A repair."),
    )


# ------------------------------------------------------------------------------------------- clock stop


@pytest.mark.parametrize(("policy_id", "stops"), [("bexley", True), ("westminster", False)])
async def test_clock_stop_while_waiting_for_information(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
    stops: bool,
) -> None:
    t = POLICY_TIMINGS[policy_id]
    async with scenario(temporal_env, pool, policies, task_queue, policy_id) as s:
        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        planned = s.day(t.s1_respond)
        await s.move_to(s.day(1), 10)  # Tuesday
        state = await act(
            s.handle,
            "request_information",
            cmd.RequestInformation(actor=INVESTIGATOR, request="Photos of the damp, please."),
        )
        assert state.status is Status.AWAITING_INFORMATION
        (letter,) = await s.sent("information_request", "complainant")
        assert context(letter)["clock_stopped"] is stops

        await s.move_to(s.day(4), 10)  # Friday: Wednesday, Thursday and Friday were lost
        state = await act(
            s.handle,
            "information_received",
            cmd.InformationReceived(actor=OFFICER, summary="Six photos of the bedroom wall."),
        )
        assert state.status is Status.ACKNOWLEDGED
        expected = weekdays_after(planned, 3) if stops else planned
        assert state.current.respond_by == expected
        assert (await s.read_model())["respond_by"] == expected
        if stops:
            entry = state.current.ledger[-1]
            assert (entry.kind, entry.working_days, entry.respond_by) == ("clock_restarted", 3, expected)
            assert state.current.extension_limit_by == weekdays_after(expected, t.s1_extension)
        else:
            assert all(entry.kind != "clock_restarted" for entry in state.current.ledger)

        # The response timer follows the date: late after `expected`, not after `planned`.
        await s.move_to(planned + timedelta(days=1), 9)
        assert ("response_overdue" in await s.actions()) is (not stops)
        await s.move_to(expected + timedelta(days=1), 9)
        (late,) = await s.events("response_overdue")
        assert detail(late)["due"] == expected.isoformat()


# ----------------------------------------------------------------------------------- escalation window


@pytest.mark.parametrize("policy_id", ["bexley", "barking-dagenham"])
async def test_escalation_on_the_last_day_of_the_window(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
) -> None:
    t = POLICY_TIMINGS[policy_id]
    async with scenario(temporal_env, pool, policies, task_queue, policy_id, quiet_days=70) as s:
        responded_on = await s.responded(RESPONSE)
        last_day = escalation_by(t, responded_on)

        await s.move_to(last_day, 18)
        state = await act(
            s.handle, "request_escalation", cmd.RequestEscalation(actor=RESIDENT, reasons="Still damp.")
        )
        assert state.status is Status.ESCALATION_REQUESTED and state.stage == 2
        assert state.current.plan.acknowledge.on == weekdays_after(last_day, t.s2_ack)
        (request,) = await s.events("request_escalation")
        assert detail(request)["late"] is False
        assert "escalation_window_closed" not in await s.actions()


@pytest.mark.parametrize("policy_id", ["bexley", "barking-dagenham"])
async def test_window_closes_then_a_late_request_needs_an_officer(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
) -> None:
    t = POLICY_TIMINGS[policy_id]
    async with scenario(temporal_env, pool, policies, task_queue, policy_id, quiet_days=70) as s:
        responded_on = await s.responded(RESPONSE)
        last_day = escalation_by(t, responded_on)

        # The window passes without a request: the complaint closes and the resident is told, with the
        # ombudsman's details.
        await s.move_to(last_day + timedelta(days=1), 9)
        state = await state_of(s.handle)
        assert state.status is Status.CLOSED
        (closed,) = await s.events("escalation_window_closed")
        assert detail(closed)["window_closed_on"] == last_day.isoformat()
        (closure,) = await s.sent("closure", "complainant")
        assert context(closure)["ombudsman"] == policies[policy_id].ombudsman.signposting
        assert (await s.read_model())["status"] == "closed"

        late = cmd.RequestEscalation(actor=RESIDENT, reasons="I was in hospital.")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(s.handle, "request_escalation", late)
        assert last_day.isoformat() in str(refused.value.cause)
        resident_with_reason = late.model_copy(update={"accept_late_reason": "In hospital."})
        with pytest.raises(WorkflowUpdateFailedError):
            await act(s.handle, "request_escalation", resident_with_reason)
        assert (await state_of(s.handle)).status is Status.CLOSED

        accepted_on = last_day + timedelta(days=3)
        await s.move_to(accepted_on, 10)
        state = await act(
            s.handle,
            "request_escalation",
            cmd.RequestEscalation(
                actor=OFFICER,
                reasons="I was in hospital.",
                accept_late_reason="The resident was in hospital when the window closed.",
            ),
        )
        assert state.status is Status.ESCALATION_REQUESTED and state.stage == 2
        assert state.current.plan.acknowledge.on == weekdays_after(accepted_on, t.s2_ack)
        assert state.current.respond_by == weekdays_after(accepted_on, t.s2_respond)
        (request,) = await s.events("request_escalation")
        assert detail(request)["late"] is True
        assert detail(request)["accepted_late_reason"].startswith("The resident was in hospital")


async def test_stage_2_refused_signposts_the_ombudsman(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    async with scenario(temporal_env, pool, policies, task_queue, "westminster") as s:
        await respond_then_escalate(s)
        await s.move_to(s.day(3), 10)
        reasons = "No new reasons were given and no Stage 2 outcome could change the decision."
        state = await act(s.handle, "refuse_escalation", cmd.RefuseEscalation(actor=MANAGER, reasons=reasons))
        assert state.status is Status.ESCALATION_REFUSED
        (letter,) = await s.sent("escalation_refused", "complainant")
        assert letter["recipient"] == "ada@example.org"
        assert context(letter)["reasons"] == reasons
        assert context(letter)["ombudsman"] == policies["westminster"].ombudsman.signposting
        assert "Ombudsman" in context(letter)["ombudsman"]
        # The Stage 2 acknowledgement is no longer owed.
        await s.move_to(s.day(8), 9)
        assert "acknowledgement_overdue" not in await s.actions()
        assert not (await state_of(s.handle)).overdue


# ---------------------------------------------------------------------------------------- withdrawal


@pytest.mark.parametrize("stage", [1, 2])
async def test_withdrawal_ends_the_timers(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    stage: int,
) -> None:
    async with scenario(temporal_env, pool, policies, task_queue, "council-004") as s:
        if stage == 2:
            await respond_then_escalate(s)
        await s.move_to(s.day(3), 10)
        state = await act(s.handle, "withdraw", cmd.Withdraw(actor=RESIDENT, reason="Sorted out."))
        assert state.status is Status.WITHDRAWN and state.stage == stage
        withdrawn_seq = (await s.events("withdraw"))[0]["seq"]
        (letter,) = await s.sent("withdrawal", "complainant")
        assert context(letter)["reason"] == "Sorted out."

        # Past every date the stage had (Stage 2 of council-004 answers within 20 working days).
        await s.move_to(s.day(30), 9)
        after = [row["action"] for row in await s.events() if row["seq"] > withdrawn_seq]
        assert not set(after) & OVERDUE_ACTIONS, after
        assert not await s.sent("overdue_alert")
        state = await state_of(s.handle)
        assert state.status is Status.WITHDRAWN and not state.overdue


# ------------------------------------------------------------------------------ actions past closure


async def test_actions_are_tracked_after_closure(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    async with scenario(temporal_env, pool, policies, task_queue, "bexley") as s:
        await respond_then_escalate(s)
        await s.move_to(s.day(3), 10)
        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
        responded_on = s.day(4)  # Friday
        due_on = responded_on + timedelta(days=10)  # Monday week
        await s.move_to(responded_on, 10)
        action = ActionItem(
            id="damp-treatment", description="Treat the bedroom wall", owner="ian.investigator", due_on=due_on
        )
        state = await act(
            s.handle,
            "respond",
            cmd.Respond(actor=REVIEWER, outcome=Outcome.UPHELD, findings="Not fixed.", actions=[action]),
        )
        assert state.status is Status.CLOSED  # Stage 2 is the last stage

        await s.move_to(due_on, 20)
        assert "action_overdue" not in await s.actions()
        await s.move_to(due_on + timedelta(days=1), 9)
        (overdue,) = await s.events("action_overdue")
        assert detail(overdue)["action_id"] == "damp-treatment"
        (owner,) = await s.sent("action_overdue", "staff")
        assert owner["recipient"] == "ian.investigator"
        assert context(owner)["due_on"] == due_on.isoformat()
        (alert,) = await s.sent("overdue_alert", "manager")
        assert context(alert)["what"] == "action"
        state = await state_of(s.handle)
        assert state.status is Status.CLOSED and state.overdue

        state = await act(
            s.handle,
            "complete_action",
            cmd.CompleteAction(actor=OFFICER, action_id="damp-treatment", note="Wall treated."),
        )
        assert state.actions[0].completed_at is not None and state.actions[0].completed_by == OFFICER.id
        assert not state.overdue and state.status is Status.CLOSED
        assert (await s.read_model())["overdue"] is False


# ------------------------------------------------------------------------------ conflict of interest


async def test_staff_named_in_the_complaint_cannot_act_or_be_assigned(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    named = [INVESTIGATOR.id]
    async with scenario(
        temporal_env, pool, policies, task_queue, "bexley", staff_complained_about=named
    ) as s:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(s.handle, "acknowledge", cmd.Acknowledge(actor=INVESTIGATOR))
        assert "about you" in str(refused.value.cause)
        with pytest.raises(WorkflowUpdateFailedError):
            await act(s.handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        state = await state_of(s.handle)
        assert state.status is Status.RECEIVED and state.assigned_to is None

        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        with pytest.raises(WorkflowUpdateFailedError):
            await act(s.handle, "respond", RESPONSE)
        # A reviewer answers Stage 2 only; the workflow refuses it at Stage 1 as the API does.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(
                s.handle, "respond", cmd.Respond(actor=REVIEWER, outcome=Outcome.UPHELD, findings="At fault.")
            )
        assert "a reviewer cannot respond at Stage 1" in str(refused.value.cause)
        state = await act(s.handle, "assign", cmd.Assign(actor=OFFICER, assignee=MANAGER.id))
        assert state.assigned_to == MANAGER.id
        state = await act(
            s.handle,
            "respond",
            cmd.Respond(actor=MANAGER, outcome=Outcome.UPHELD, findings="The officer was at fault."),
        )
        assert state.status is Status.RESPONDED
        assert INVESTIGATOR.id not in {row["actor_id"] for row in await s.events()}


# ---------------------------------------------------------------------------------------- anonymous


async def test_anonymous_complaint_sends_nothing_to_the_complainant(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    # council-003 accepts anonymous complaints and tells residents of a missed deadline (early referral).
    async with scenario(
        temporal_env,
        pool,
        policies,
        task_queue,
        "council-003",
        anonymous=True,
        complainant=Complainant(),
    ) as s:
        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await s.move_to(s.day(21), 9)  # the response was due on day 20
        assert await s.events("response_overdue")
        await act(s.handle, "respond", RESPONSE)
        assert await s.sent("new_complaint", "staff")
        assert await s.sent("overdue_alert", "manager")
        assert await s.sent(audience="complainant") == []
