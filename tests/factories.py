"""Test helpers: intakes, actors, a worker on a fresh task queue, and quiet weeks to start complaints in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import holidays
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.temporal import workflow_id
from domain.models import Actor, Channel, Complainant, ComplaintState, Intake, OpenComplaint, Receipt, Role
from domain.policy import Policy
from store.complaints import ComplaintRepository, EventRecord
from worker import build_worker
from workflows.complaint import ComplaintWorkflow
from workflows.complaint.limits import TASK_TIMEOUT

LONDON = ZoneInfo("Europe/London")
OFFICER = Actor(id="olivia.officer", role=Role.COMPLAINTS_OFFICER, name="Olivia Officer")
INVESTIGATOR = Actor(id="ian.investigator", role=Role.INVESTIGATOR, name="Ian Investigator")
REVIEWER = Actor(id="rita.reviewer", role=Role.REVIEWER, name="Rita Reviewer")
MANAGER = Actor(id="maya.manager", role=Role.MANAGER, name="Maya Manager")
RESIDENT = Actor(id="resident", role=Role.RESIDENT, name="Resident")


def intake(policy_id: str, received_at: datetime, **overrides: object) -> Intake:
    fields: dict[str, object] = {
        "policy_id": policy_id,
        "received_at": received_at,
        "channel": Channel.EMAIL,
        "complainant": Complainant(name="Ada Resident", email="ada@example.org"),
        "service_area": "housing-repairs",
        "summary": "Damp in the bedroom reported three times and not fixed.",
        "desired_outcome": "Fix the damp and compensate for the damaged furniture.",
    }
    fields.update(overrides)
    return Intake.model_validate(fields)


def quiet_monday(after: datetime, days: int = 60) -> date:
    """The first Monday after `after` with no English bank holiday in the following `days` days.

    Workflow tests start complaints on it, so expected deadlines are plain weekday arithmetic that a reader
    can check by hand (Monday + 2 working days = Wednesday); bank-holiday cases are in test_calendar.
    """
    day = after.astimezone(LONDON).date() + timedelta(days=1)
    while True:
        if day.weekday() == 0:
            span = {day + timedelta(offset) for offset in range(days + 1)}
            years = {d.year for d in span}
            bank = holidays.country_holidays("GB", subdiv="ENG", years=years)
            if not span & set(bank.keys()):
                return day
        day += timedelta(days=1)


def weekdays_after(day: date, count: int) -> date:
    """Count weekdays forward (valid only inside a quiet window, where every weekday is a working day)."""
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


async def move_to(env: WorkflowEnvironment, moment: datetime) -> None:
    now = await env.get_current_time()
    if moment > now:
        await env.sleep(moment - now)


async def start_in_quiet_week(env: WorkflowEnvironment, days: int = 60) -> datetime:
    """Skip time to 09:00 London on a quiet Monday and return that instant."""
    monday = quiet_monday(await env.get_current_time(), days)
    start = datetime.combine(monday, time(9, 0), tzinfo=LONDON)
    await move_to(env, start)
    return start


@asynccontextmanager
async def running_worker(
    env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[Worker]:
    async with build_worker(env.client, task_queue, pool, policies) as worker:
        yield worker


async def open_complaint(
    env: WorkflowEnvironment,
    task_queue: str,
    complaint: Intake,
    reference: str | None = None,
    policy: Policy | None = None,
    *,
    continue_as_new_after_events: int | None = None,
) -> WorkflowHandle[ComplaintWorkflow, ComplaintState]:
    """Start a complaint's workflow. With `policy` it is frozen into the start, as the API does; without,
    the workflow loads it by id (as complaints started before that release did)."""
    reference = reference or f"T-{uuid.uuid4().hex[:10].upper()}"
    return await env.client.start_workflow(
        ComplaintWorkflow.run,
        OpenComplaint(
            reference=reference,
            intake=complaint,
            opened_by=OFFICER,
            policy=policy,
            continue_as_new_after_events=continue_as_new_after_events,
        ),
        id=workflow_id(reference),
        task_queue=task_queue,
        task_timeout=TASK_TIMEOUT,
    )


async def trail_of(pool: asyncpg.Pool, reference: str) -> list[EventRecord]:
    """The complaint's event trail as the record activity wrote it (with each event's text)."""
    return await ComplaintRepository(pool).events(reference=reference)


async def state_of(handle: WorkflowHandle[ComplaintWorkflow, ComplaintState]) -> ComplaintState:
    return await handle.query(ComplaintWorkflow.state)


async def act(
    handle: WorkflowHandle[ComplaintWorkflow, ComplaintState], update: str, command: object
) -> ComplaintState:
    """Run one staff or resident action (a workflow Update) and return the new state (read with the
    `state` query: the Update itself answers only a small receipt)."""
    receipt: Receipt = await handle.execute_update(update, command, result_type=Receipt)
    state = await state_of(handle)
    assert (state.seq, state.status) == (receipt.seq, receipt.status) or state.seq > receipt.seq
    return state
