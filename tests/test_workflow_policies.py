"""Each shipped policy through Stage 1 on time, late, and into Stage 2, on Temporal's time-skipping server.

Every complaint is received at 09:00 London on a quiet Monday (no bank holiday for weeks), so each expected
date is weekday arithmetic a reader can check with a calendar: `weekdays_after(monday, 2)` is Wednesday.
"""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.models import Outcome, Role, Status
from domain.policy import Policy
from tests.factories import INVESTIGATOR, OFFICER, RESIDENT, REVIEWER, act, state_of, weekdays_after
from tests.scenario_helpers import (
    POLICY_IDS,
    POLICY_TIMINGS,
    at,
    context,
    detail,
    escalation_by,
    scenario,
    to_minute,
    weekdays_before,
)

RESPONSE = cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.PARTIALLY_UPHELD, findings="The repair was late.")


@pytest.mark.parametrize("policy_id", POLICY_IDS)
async def test_on_time_stage_1(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
) -> None:
    t = POLICY_TIMINGS[policy_id]
    async with scenario(temporal_env, pool, policies, task_queue, policy_id) as s:
        monday = s.monday
        state = await state_of(s.handle)
        assert state.status is Status.RECEIVED
        ack_by = t.s1_ack_by(monday)
        # Before acknowledgement a from-acknowledgement window assumes the latest acknowledgement.
        planned = weekdays_after(ack_by if t.s1_respond_from_ack else monday, t.s1_respond)
        assert state.current.plan.acknowledge.on == ack_by
        assert state.current.respond_by == planned
        row = await s.read_model()
        assert (row["acknowledge_by"], row["respond_by"]) == (ack_by, planned)

        tuesday = weekdays_after(monday, 1)
        await s.move_to(tuesday, 10)
        state = await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        assert state.status is Status.ACKNOWLEDGED
        respond_by = weekdays_after(tuesday, t.s1_respond) if t.s1_respond_from_ack else planned
        assert state.current.respond_by == respond_by
        (ack_event,) = await s.events("acknowledge")
        assert detail(ack_event)["late"] is False
        (letter,) = await s.sent("acknowledgement")
        assert letter["audience"] == "complainant" and letter["recipient"] == "ada@example.org"
        assert context(letter)["respond_by"] == respond_by.isoformat()

        thursday = weekdays_after(monday, 3)
        await s.move_to(thursday, 11)
        state = await act(s.handle, "respond", RESPONSE)
        assert state.status is Status.RESPONDED
        window = escalation_by(t, thursday)
        assert state.current.escalation_request_by is not None
        assert state.current.escalation_request_by.on == window
        (respond_event,) = await s.events("respond")
        assert detail(respond_event)["on_time"] is True
        (response,) = await s.sent("response")
        assert response["audience"] == "complainant" and response["recipient"] == "ada@example.org"
        assert context(response)["escalation_request_by"] == window.isoformat()
        assert context(response)["outcome"] == "partially_upheld"
        assert (await s.read_model())["escalation_request_by"] == window
        assert not state.overdue
        assert not await s.sent("overdue_alert")
        assert "response_overdue" not in await s.actions()


# Reminder days for the acknowledgement, as weekdays after the Monday of receipt: due day minus each offset
# of `reminder_offsets_working_days`, at 08:00, keeping only those after the 09:00 receipt.
ACK_REMINDER_WEEKDAYS = {
    "bexley": [1],  # due Wednesday (2): offsets 3, 1 -> previous Friday (before receipt), Tuesday
    "westminster": [1],
    "barking-dagenham": [2, 4],  # due next Monday (5): offsets 3, 1 -> Wednesday, Friday
    # council-003: due Saturday (5 calendar days): offsets 5, 2 -> Monday 08:00 (before receipt), Thursday
    "council-003": [3],
    "council-004": [3],
    "complaint-handling-code": [2, 4],
}


@pytest.mark.parametrize("policy_id", POLICY_IDS)
async def test_late_acknowledgement_reminders_and_late_response(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
) -> None:
    t = POLICY_TIMINGS[policy_id]
    async with scenario(temporal_env, pool, policies, task_queue, policy_id) as s:
        ack_by = t.s1_ack_by(s.monday)
        day_after = ack_by + timedelta(days=1)
        await s.move_to(day_after, 9)

        state = await state_of(s.handle)
        assert state.status is Status.RECEIVED
        assert state.overdue and state.current.acknowledgement_overdue
        (overdue,) = await s.events("acknowledgement_overdue")
        assert detail(overdue)["due"] == ack_by.isoformat()
        assert overdue["at"] > at(ack_by, 23, 59)  # not before the end of the due day
        (alert,) = await s.sent("overdue_alert")
        assert alert["audience"] == "manager"
        assert context(alert)["what"] == "acknowledgement" and context(alert)["due"] == ack_by.isoformat()
        assert (await s.read_model())["overdue"] is True
        reminders = await s.events("reminder_acknowledge")
        assert [to_minute(row["at"]) for row in reminders] == [
            at(s.day(n), 8) for n in ACK_REMINDER_WEEKDAYS[policy_id]
        ]
        staff_reminders = await s.sent("reminder_acknowledge", "staff")
        assert len(staff_reminders) == len(ACK_REMINDER_WEEKDAYS[policy_id])
        assert all(context(row)["due_on"] == ack_by.isoformat() for row in staff_reminders)

        state = await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        assert state.status is Status.ACKNOWLEDGED
        assert not state.overdue
        (ack_event,) = await s.events("acknowledge")
        assert detail(ack_event)["late"] is True
        assert (await s.read_model())["overdue"] is False
        # A late acknowledgement buys no time: a window counted from acknowledgement counts from its due date
        # (Barking and Dagenham, the Code), not from the late day.
        respond_by = weekdays_after(ack_by, t.s1_respond) if t.s1_respond_from_ack else s.day(t.s1_respond)
        assert state.current.respond_by == respond_by

        await s.move_to(respond_by + timedelta(days=1), 9)
        state = await state_of(s.handle)
        assert state.overdue and state.current.response_overdue
        (late,) = await s.events("response_overdue")
        assert detail(late)["due"] == respond_by.isoformat()
        alerts = await s.sent("overdue_alert", "manager")
        assert [context(row)["what"] for row in alerts] == ["acknowledgement", "response"]
        assert context(alerts[1])["due"] == respond_by.isoformat()
        # Where the policy lets the resident go to the ombudsman early, they are told so.
        told = await s.sent("response_late", "complainant")
        assert len(told) == (1 if t.early_referral else 0)
        if t.early_referral:
            assert context(told[0])["ombudsman"] == policies[policy_id].ombudsman.signposting
        respond_reminders = await s.events("reminder_respond")
        expected = sorted(reminder_dates(respond_by, t.reminder_offsets))
        assert [to_minute(row["at"]) for row in respond_reminders] == [at(day, 8) for day in expected]
        assert len(await s.sent("reminder_respond", "staff")) == len(t.reminder_offsets)


def reminder_dates(due: date, offsets: tuple[int, ...]) -> list[date]:
    return [weekdays_before(due, offset) for offset in offsets]


@pytest.mark.parametrize("policy_id", POLICY_IDS)
async def test_stage_2_windows_and_independence(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
) -> None:
    t = POLICY_TIMINGS[policy_id]
    async with scenario(temporal_env, pool, policies, task_queue, policy_id, quiet_days=75) as s:
        await s.responded(RESPONSE)

        requested_on = s.day(2)
        await s.move_to(requested_on, 10)
        state = await act(
            s.handle,
            "request_escalation",
            # council-004 needs to know both (its `escalation_requires`); the others take them when given.
            cmd.RequestEscalation(
                actor=RESIDENT, reasons="The damp is still there.", outcome_wanted="A survey."
            ),
        )
        assert state.status is Status.ESCALATION_REQUESTED
        assert state.stage == 2 and state.current.number == 2
        s2_ack_by = weekdays_after(requested_on, t.s2_ack)
        s2_planned = weekdays_after(s2_ack_by if t.s2_respond_from_ack else requested_on, t.s2_respond)
        assert state.current.plan.acknowledge.on == s2_ack_by
        assert state.current.respond_by == s2_planned
        row = await s.read_model()
        assert (row["stage"], row["acknowledge_by"], row["respond_by"]) == (2, s2_ack_by, s2_planned)
        (request,) = await s.events("request_escalation")
        assert detail(request)["late"] is False
        assert await s.sent("escalation_requested", "staff")

        acknowledged_on = s.day(3)
        await s.move_to(acknowledged_on, 10)
        state = await act(s.handle, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
        s2_respond_by = weekdays_after(acknowledged_on, t.s2_respond) if t.s2_respond_from_ack else s2_planned
        assert state.current.respond_by == s2_respond_by
        (letter,) = await s.sent("stage2_acknowledgement", "complainant")
        assert context(letter)["respond_by"] == s2_respond_by.isoformat()

        # Stage 2 is answered by someone independent of Stage 1: not its responder, even as assignee, and
        # even with a role that may answer Stage 2 (an investigator never may: the action table's roles).
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(s.handle, "respond", RESPONSE)
        assert "an investigator cannot respond at Stage 2" in str(refused.value.cause)
        promoted = INVESTIGATOR.model_copy(update={"role": Role.MANAGER})
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(s.handle, "respond", RESPONSE.model_copy(update={"actor": promoted}))
        assert "independent" in str(refused.value.cause)
        with pytest.raises(WorkflowUpdateFailedError):
            await act(s.handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        state = await state_of(s.handle)
        assert state.status is Status.ACKNOWLEDGED and state.current.responded_at is None
        assert state.assigned_to is None

        await s.move_to(s.day(5), 10)
        state = await act(
            s.handle,
            "respond",
            cmd.Respond(actor=REVIEWER, outcome=Outcome.UPHELD, findings="The damp was not treated."),
        )
        # Stage 2 is every shipped policy's last stage: its response closes the complaint.
        assert state.status is Status.CLOSED
        assert state.current.responded_by == REVIEWER.id
        (final,) = await s.sent("stage2_response", "complainant")
        assert context(final)["escalation_request_by"] is None
        assert context(final)["ombudsman"] == policies[policy_id].ombudsman.signposting
        assert context(final)["stage"] == 2


@pytest.mark.parametrize("policy_id", POLICY_IDS)
async def test_extension_within_and_beyond_the_limit(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
) -> None:
    t = POLICY_TIMINGS[policy_id]
    async with scenario(temporal_env, pool, policies, task_queue, policy_id, quiet_days=60) as s:
        # Acknowledged on the day of receipt: a from-acknowledgement window counts from Monday too.
        state = await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        respond_by = s.day(t.s1_respond)
        limit = weekdays_after(respond_by, t.s1_extension)
        assert state.current.respond_by == respond_by
        assert state.current.extension_limit_by == limit

        await s.move_to(s.day(2), 10)
        within = weekdays_after(respond_by, 5)
        reason = "Waiting for the contractor's damp survey."
        state = await act(
            s.handle, "extend", cmd.Extend(actor=INVESTIGATOR, new_respond_by=within, reason=reason)
        )
        assert state.current.respond_by == within
        assert state.current.ledger[-1].kind == "extended"
        (letter,) = await s.sent("extension", "complainant")
        assert context(letter)["reason"] == reason
        assert context(letter)["respond_by"] == within.isoformat()

        beyond = weekdays_after(limit, 5)
        too_far = cmd.Extend(actor=INVESTIGATOR, new_respond_by=beyond, reason="The survey is delayed.")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(s.handle, "extend", too_far)
        assert limit.isoformat() in str(refused.value.cause)
        state = await state_of(s.handle)
        assert state.current.respond_by == within
        assert len(await s.sent("extension")) == 1

        await act(
            s.handle,
            "record_extension_agreement",
            cmd.RecordExtensionAgreement(actor=OFFICER, agreed=True, up_to=beyond),
        )
        state = await act(s.handle, "extend", too_far)
        assert state.current.respond_by == beyond
        assert (await s.read_model())["respond_by"] == beyond
        letters = await s.sent("extension", "complainant")
        assert [context(row)["respond_by"] for row in letters] == [within.isoformat(), beyond.isoformat()]

        # The timer follows the moved date: nothing is late at the old dates, it is late after the new one.
        await s.move_to(weekdays_after(within, 1), 9)
        assert "response_overdue" not in await s.actions()
        assert not (await state_of(s.handle)).overdue
        await s.move_to(beyond + timedelta(days=1), 9)
        (late,) = await s.events("response_overdue")
        assert detail(late)["due"] == beyond.isoformat()
        assert (await state_of(s.handle)).overdue
