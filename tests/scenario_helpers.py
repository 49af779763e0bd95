"""Helpers for the lifecycle scenario tests: open a complaint on a quiet Monday, move the clock to a local
time, and read what the service recorded and queued (events and notifications in Postgres).

Expected dates in the tests are hand arithmetic over weekdays (see `POLICY_TIMINGS`), never computed with
the policy engine under test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.models import ComplaintState, Intake
from domain.policy import Policy
from tests.factories import (
    LONDON,
    OFFICER,
    act,
    intake,
    move_to,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    weekdays_after,
)
from tests.shipped_policies import ENGLISH
from workflows.complaint import ComplaintWorkflow

Handle = WorkflowHandle[ComplaintWorkflow, ComplaintState]

POLICY_IDS = list(ENGLISH)  # the policies POLICY_TIMINGS writes out


@dataclass(frozen=True)
class Timings:
    """A policy's windows as written in its file, in working days unless stated (read by hand, not loaded)."""

    s1_ack: int
    s1_respond: int
    s1_respond_from_ack: bool
    s1_extension: int
    escalation_working_days: int | None  # None: calendar days, see escalation_calendar_days
    escalation_calendar_days: int | None
    s2_ack: int
    s2_respond: int
    s2_respond_from_ack: bool
    reminder_offsets: tuple[int, ...]
    early_referral: bool
    # council-003's "contact you within five days": Stage 1's acknowledgement in calendar days.
    s1_ack_calendar_days: bool = False

    def s1_ack_by(self, monday: date) -> date:
        """Stage 1's acknowledgement date for a receipt on a quiet Monday."""
        return (
            monday + timedelta(days=self.s1_ack)
            if self.s1_ack_calendar_days
            else weekdays_after(monday, self.s1_ack)
        )


POLICY_TIMINGS: dict[str, Timings] = {
    "bexley": Timings(2, 15, False, 10, 20, None, 2, 15, False, (3, 1), False),
    "westminster": Timings(2, 10, False, 10, 20, None, 2, 10, False, (3, 1), True),
    "barking-dagenham": Timings(5, 10, True, 10, None, 28, 5, 20, False, (3, 1), True),
    "council-003": Timings(5, 20, False, 10, 20, None, 5, 40, False, (5, 2), True, s1_ack_calendar_days=True),
    "council-004": Timings(5, 20, False, 10, 20, None, 5, 20, False, (5, 2), False),
    "complaint-handling-code": Timings(5, 10, True, 10, 20, None, 5, 20, True, (3, 1), True),
}


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A London wall-clock moment on `day`."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def to_minute(moment: datetime) -> datetime:
    """A recorded instant as London wall-clock time to the minute (timers fire a few ms after their time)."""
    return moment.astimezone(LONDON).replace(second=0, microsecond=0)


def escalation_by(timings: Timings, responded_on: date) -> date:
    if timings.escalation_calendar_days is not None:
        return responded_on + timedelta(days=timings.escalation_calendar_days)
    assert timings.escalation_working_days is not None
    return weekdays_after(responded_on, timings.escalation_working_days)


def weekdays_before(day: date, count: int) -> date:
    while count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


@dataclass
class Scenario:
    env: WorkflowEnvironment
    pool: asyncpg.Pool
    handle: Handle
    reference: str
    received: datetime

    @property
    def monday(self) -> date:
        return self.received.date()

    def day(self, working_days: int) -> date:
        return weekdays_after(self.monday, working_days)

    async def move_to(self, day: date, hour: int = 9, minute: int = 0) -> None:
        await move_to(self.env, at(day, hour, minute))

    async def responded(self, response: cmd.Respond) -> date:
        """Acknowledged at receipt, answered with `response` the next working day at 10:00; that day."""
        await act(self.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        responded_on = self.day(1)
        await self.move_to(responded_on, 10)
        await act(self.handle, "respond", response)
        return responded_on

    async def events(self, action: str | None = None) -> list[asyncpg.Record]:
        rows = await self.pool.fetch(
            "SELECT seq, action, stage, from_status, to_status, detail, actor_id, at"
            " FROM complaint_events WHERE reference = $1 ORDER BY seq",
            self.reference,
        )
        return [row for row in rows if action is None or row["action"] == action]

    async def actions(self) -> list[str]:
        return [row["action"] for row in await self.events()]

    async def sent(self, template: str | None = None, audience: str | None = None) -> list[asyncpg.Record]:
        rows = await self.pool.fetch(
            "SELECT seq, template, audience, recipient, context FROM notifications"
            " WHERE reference = $1 ORDER BY seq, id",
            self.reference,
        )
        return [
            row
            for row in rows
            if (template is None or row["template"] == template)
            and (audience is None or row["audience"] == audience)
        ]

    async def read_model(self) -> asyncpg.Record:
        row = await self.pool.fetchrow("SELECT * FROM complaints WHERE reference = $1", self.reference)
        assert row is not None
        return row


def detail(row: asyncpg.Record) -> dict[str, Any]:
    value = row["detail"]
    return value if isinstance(value, dict) else {}


def context(row: asyncpg.Record) -> dict[str, Any]:
    value = row["context"]
    return value if isinstance(value, dict) else {}


@asynccontextmanager
async def scenario(
    env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
    *,
    quiet_days: int = 60,
    **overrides: object,
) -> AsyncIterator[Scenario]:
    """A worker, and a complaint under `policy_id` received at 09:00 on a quiet Monday; the workflow is
    terminated at the end so that its timers do not outlive the test."""
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env, quiet_days)
        complaint: Intake = intake(policy_id, received, **overrides)
        reference = f"T-{uuid.uuid4().hex[:10].upper()}"
        handle = await open_complaint(env, task_queue, complaint, reference)
        try:
            yield Scenario(env, pool, handle, reference, received)
        finally:
            try:
                await handle.terminate("test finished")
            except Exception:  # noqa: BLE001 - already finished is fine
                pass
