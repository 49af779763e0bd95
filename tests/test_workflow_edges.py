"""Edges of the lifecycle: a late response, Stage 2 deadlines missed, reminders after a moved date."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.models import Outcome, Status
from domain.policy import Policy
from tests.factories import INVESTIGATOR, OFFICER, RESIDENT, REVIEWER, act, state_of, weekdays_after
from tests.scenario_helpers import (
    POLICY_IDS,
    POLICY_TIMINGS,
    at,
    context,
    detail,
    scenario,
    to_minute,
    weekdays_before,
)

RESPONSE = cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="The repair was late.")


async def test_late_response_is_recorded_late_and_clears_the_flag(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    async with scenario(temporal_env, pool, policies, task_queue, "westminster") as s:
        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        respond_by = s.day(10)
        responded_on = s.day(12)
        await s.move_to(responded_on, 10)
        assert (await state_of(s.handle)).overdue
        state = await act(s.handle, "respond", RESPONSE)
        assert state.status is Status.RESPONDED and not state.overdue
        (respond_event,) = await s.events("respond")
        assert detail(respond_event)["on_time"] is False
        assert state.current.respond_by == respond_by
        # The escalation window still runs from the day the response was actually sent.
        (letter,) = await s.sent("response", "complainant")
        assert context(letter)["escalation_request_by"] == weekdays_after(responded_on, 20).isoformat()
        assert (await s.read_model())["overdue"] is False


@pytest.mark.parametrize("policy_id", POLICY_IDS)
async def test_stage_2_acknowledgement_missed(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
) -> None:
    t = POLICY_TIMINGS[policy_id]
    async with scenario(temporal_env, pool, policies, task_queue, policy_id) as s:
        await s.responded(RESPONSE)
        requested_on = s.day(2)
        await s.move_to(requested_on, 10)
        await act(
            s.handle,
            "request_escalation",
            cmd.RequestEscalation(actor=RESIDENT, reasons="No.", outcome_wanted="A review."),
        )
        s2_ack_by = weekdays_after(requested_on, t.s2_ack)

        await s.move_to(s2_ack_by, 20)
        assert not await s.events("acknowledgement_overdue")
        await s.move_to(s2_ack_by + timedelta(days=1), 9)
        (overdue,) = await s.events("acknowledgement_overdue")
        assert overdue["stage"] == 2 and detail(overdue)["due"] == s2_ack_by.isoformat()
        state = await state_of(s.handle)
        assert state.status is Status.ESCALATION_REQUESTED and state.overdue
        (alert,) = await s.sent("overdue_alert", "manager")
        assert context(alert)["stage"] == 2

        state = await act(s.handle, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
        assert not state.overdue
        (_, second) = await s.events("acknowledge")
        assert detail(second)["late"] is True


async def test_reminders_follow_an_extended_date(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """Extended on the due day: the reminders already sent are not repeated for reminder times that have
    passed; the new date gets its own reminders only where they are still ahead."""
    async with scenario(temporal_env, pool, policies, task_queue, "bexley") as s:
        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        respond_by = s.day(15)
        await s.move_to(respond_by, 10)
        sent_before = [to_minute(row["at"]) for row in await s.events("reminder_respond")]
        assert sent_before == [at(weekdays_before(respond_by, 3), 8), at(weekdays_before(respond_by, 1), 8)]

        new_date = weekdays_after(respond_by, 5)
        await act(
            s.handle,
            "extend",
            cmd.Extend(actor=INVESTIGATOR, new_respond_by=new_date, reason="Survey booked for next week."),
        )
        await s.move_to(new_date, 10)
        reminders = [to_minute(row["at"]) for row in await s.events("reminder_respond")]
        assert reminders == sent_before + [
            at(weekdays_before(new_date, 3), 8),
            at(weekdays_before(new_date, 1), 8),
        ]
        assert not await s.events("response_overdue")


async def test_no_stale_reminders_after_a_short_extension(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """Extended by one day at 10:00 on the due day: the new date's reminders (3 and 1 working days before
    it, at 08:00) are both in the past, so staff get no new reminder; they already had two for this week."""
    async with scenario(temporal_env, pool, policies, task_queue, "bexley") as s:
        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        respond_by = s.day(15)
        await s.move_to(respond_by, 10)
        new_date = weekdays_after(respond_by, 1)
        await act(
            s.handle,
            "extend",
            cmd.Extend(actor=INVESTIGATOR, new_respond_by=new_date, reason="One more day for the survey."),
        )
        await s.move_to(new_date, 10)
        reminders = [to_minute(row["at"]) for row in await s.events("reminder_respond")]
        assert reminders == [at(weekdays_before(respond_by, 3), 8), at(weekdays_before(respond_by, 1), 8)]
        assert len(await s.sent("reminder_respond", "staff")) == 2


async def test_no_stale_reminder_when_the_clock_restarts(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """Bexley stops the clock for information. Asked on day 13 (after the 08:00 reminder for day 15),
    answered on day 14: one working day lost, due day 16, whose reminders are day 13 08:00 (passed) and
    day 15 08:00. Staff get the day-15 one only, not a second 'day 13' reminder at the moment of resuming."""
    async with scenario(temporal_env, pool, policies, task_queue, "bexley") as s:
        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await s.move_to(s.day(13), 10)
        await act(
            s.handle,
            "request_information",
            cmd.RequestInformation(actor=INVESTIGATOR, request="Photos of the damp, please."),
        )
        await s.move_to(s.day(14), 10)
        state = await act(
            s.handle,
            "information_received",
            cmd.InformationReceived(actor=OFFICER, summary="Photos received."),
        )
        assert state.current.respond_by == s.day(16)
        await s.move_to(s.day(16), 10)
        reminders = [to_minute(row["at"]) for row in await s.events("reminder_respond")]
        assert reminders == [at(s.day(12), 8), at(s.day(15), 8)]


@pytest.mark.parametrize("policy_id", POLICY_IDS)
async def test_stage_2_extension_limit_and_late_response(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
) -> None:
    t = POLICY_TIMINGS[policy_id]
    async with scenario(temporal_env, pool, policies, task_queue, policy_id, quiet_days=100) as s:
        await s.responded(RESPONSE)
        requested_on = s.day(2)
        await s.move_to(requested_on, 10)
        await act(
            s.handle,
            "request_escalation",
            cmd.RequestEscalation(actor=RESIDENT, reasons="No.", outcome_wanted="A review."),
        )
        state = await act(s.handle, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
        # council-003 needs 2 + 40 + 20 working days without a bank holiday: a 100-day quiet window.
        # Acknowledged the day the request came in: either reading of the window starts that day.
        respond_by = weekdays_after(requested_on, t.s2_respond)
        limit = weekdays_after(respond_by, 20)  # every shipped policy: 20 more working days at Stage 2
        assert state.current.respond_by == respond_by
        assert state.current.extension_limit_by == limit
        with pytest.raises(WorkflowUpdateFailedError):
            await act(
                s.handle,
                "extend",
                cmd.Extend(actor=REVIEWER, new_respond_by=weekdays_after(limit, 1), reason="Too long."),
            )
        state = await act(
            s.handle, "extend", cmd.Extend(actor=REVIEWER, new_respond_by=limit, reason="Expert report.")
        )
        assert state.current.respond_by == limit
        await s.move_to(limit + timedelta(days=1), 9)
        (late,) = await s.events("response_overdue")
        assert late["stage"] == 2 and detail(late)["due"] == limit.isoformat()
        assert len(await s.sent("response_late", "complainant")) == (1 if t.early_referral else 0)
