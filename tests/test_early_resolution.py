"""Issue 28, point 2: an optional early-resolution step before Stage 1, through the domain's rules, steps and
timers (the workflow runs the same functions). Northern Ireland's holidays: Wednesday 17 March 2027 (St
Patrick's Day), Good Friday 26 March and Easter Monday 29 March 2027.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from api.resident.service import status_text
from domain import commands as cmd
from domain.actions import ACTIONS
from domain.facts import stage_facts
from domain.models import CaseRow, Outcome, Status
from domain.policy import Policy
from notifications.render import render
from store import reports
from store.complaints import ComplaintRecord
from tests.direct_effects import DirectEffects, fire_next, new_complaint, run
from tests.factories import (
    INVESTIGATOR,
    LONDON,
    OFFICER,
    act,
    intake,
    move_to,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    state_of,
)
from tests.factories import weekdays_after as after

POLICIES = Path(__file__).resolve().parent.parent / "policies"


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def with_early_resolution(working_days: int) -> Policy:
    """The NIPSO model with an early resolution within so many working days before its Stage 1."""
    data = tomllib.loads((POLICIES / "northern-ireland-model.toml").read_text(encoding="utf-8"))
    data["early_resolution"] = {
        "name": "Early resolution",
        "handled_by": "The service",
        "resolve": {"amount": working_days, "unit": "working_days", "from": "receipt"},
    }
    return Policy.model_validate(data)


@pytest.fixture
def three_tier() -> Policy:
    return with_early_resolution(5)


async def test_resolved_early_the_complaint_closes_with_that_outcome(three_tier: Policy) -> None:
    # Received on St Patrick's Day: day 0 Thu 18 Mar; early resolution due by Thu 25 Mar.
    ctx, effects = await new_complaint(three_tier, intake(three_tier.id, at(date(2027, 3, 17))))
    stage = ctx.state.current
    assert stage.early_resolution is not None and stage.early_resolution.on == date(2027, 3, 25)
    # Stage 1's clock has not started: acknowledging is refused, and no Stage 1 timer runs.
    refusal = ACTIONS["acknowledge"].refusal(
        ctx.state, three_tier, cmd.Acknowledge(actor=OFFICER), effects.now()
    )
    assert refusal is not None and "at early resolution" in refusal.message
    effects.clock = at(date(2027, 3, 22))
    resolution = cmd.ResolveEarly(actor=OFFICER, outcome=Outcome.UPHELD, findings="Collected the next day.")
    await run(ctx, "resolve_early", resolution)
    assert ctx.state.status is Status.CLOSED
    assert ctx.state.closure_reason == "resolved at early resolution"
    assert effects.trail[-1].detail == {
        "outcome": Outcome.UPHELD,
        "findings": "Collected the next day.",
        "on_time": True,
        "early_resolution": True,
    }
    (letter,) = effects.sent
    text = render(letter.template, letter.context, three_tier).text
    assert "Complaint stage: Early resolution" in text
    assert "Your complaint is upheld." in text and "Collected the next day." in text
    assert "Northern Ireland Public Services Ombudsman" in text


async def test_not_suitable_stage_1_counts_from_the_decision(three_tier: Policy) -> None:
    ctx, effects = await new_complaint(three_tier, intake(three_tier.id, at(date(2027, 3, 17))))
    assert await _next_timer_kind(ctx) == "early_resolution_overdue"
    # The officer decides on Tue 23 Mar that early resolution does not fit: Stage 1's 5 working days count
    # from that day: Wed 24 (1), Thu 25 (2), Good Friday and Easter Monday, Tue 30 (3), Wed 31 (4), Thu 1 Apr.
    effects.clock = at(date(2027, 3, 23))
    await run(ctx, "start_investigation", cmd.StartInvestigation(actor=OFFICER, because="not_suitable"))
    stage = ctx.state.current
    assert ctx.state.status is Status.RECEIVED
    assert (stage.plan.acknowledge.on, stage.respond_by) == (date(2027, 4, 1), date(2027, 4, 1))
    assert effects.trail[-1].detail["respond_by"] == date(2027, 4, 1)
    # Now Stage 1 runs as usual, and early resolution cannot be used again.
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    resolution = cmd.ResolveEarly(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Too late for this.")
    refusal = ACTIONS["resolve_early"].refusal(ctx.state, three_tier, resolution, effects.now())
    assert refusal is not None  # acknowledged: no longer allowed from this status


async def test_a_late_early_resolution_alerts_and_waits_for_the_request(three_tier: Policy) -> None:
    ctx, effects = await new_complaint(three_tier, intake(three_tier.id, at(date(2027, 3, 17))))
    assert await fire_next(ctx) == "early_resolution_overdue"
    assert effects.now() == datetime(2027, 3, 25, 23, 59, 59, 999999, tzinfo=LONDON)
    assert ctx.state.current.early_resolution_overdue
    (alert,) = effects.sent
    assert (alert.audience, alert.context["what"], alert.context["due"]) == (
        "manager",
        "early_resolution",
        date(2027, 3, 25),
    )
    # The resident asks for an investigation on Easter Monday: day 0 Tue 30 Mar; 5 working days = Tue 6 Apr.
    effects.clock = at(date(2027, 3, 29))
    await run(ctx, "start_investigation", cmd.StartInvestigation(actor=OFFICER, because="requested"))
    assert ctx.state.current.respond_by == date(2027, 4, 6)
    assert effects.trail[-1].detail["early_resolution_on_time"] is False
    refusal = ACTIONS["start_investigation"].refusal(
        ctx.state, three_tier, cmd.StartInvestigation(actor=OFFICER, because="requested"), effects.now()
    )
    assert refusal is not None and refusal.message == "early resolution has already ended (requested)"


async def test_stage_1_counts_from_when_the_resident_asked_not_when_it_was_logged(three_tier: Policy) -> None:
    ctx, effects = await new_complaint(three_tier, intake(three_tier.id, at(date(2027, 3, 17))))
    # The resident phoned on Mon 22 Mar to ask for an investigation; the officer logs it on Tue 30 Mar.
    effects.clock = at(date(2027, 3, 30))
    asked = at(date(2027, 3, 22), 9)
    for wrong, words in [(at(date(2027, 3, 31)), "in the future"), (at(date(2027, 3, 16)), "before")]:
        command = cmd.StartInvestigation(actor=OFFICER, because="requested", received_at=wrong)
        refusal = ACTIONS["start_investigation"].refusal(ctx.state, three_tier, command, effects.now())
        assert refusal is not None and refusal.message.startswith("received_at:") and words in refusal.message
    command = cmd.StartInvestigation(actor=OFFICER, because="requested", received_at=asked)
    assert ACTIONS["start_investigation"].refusal(ctx.state, three_tier, command, effects.now()) is None
    await run(ctx, "start_investigation", command)
    # 5 working days from Mon 22 Mar: Tue 23 (1), Wed 24 (2), Thu 25 (3), Good Friday and Easter Monday,
    # Tue 30 (4), Wed 31 Mar (5); counted from the click (Tue 30) it would have been Tue 6 Apr.
    assert ctx.state.current.respond_by == date(2027, 3, 31)
    detail = effects.trail[-1].detail
    assert detail["received_at"] == asked and detail["early_resolution_on_time"] is True


async def test_reports_count_an_early_resolution_against_its_own_date() -> None:
    three_days = with_early_resolution(3)
    ctx, effects = await new_complaint(three_days, intake(three_days.id, at(date(2027, 3, 17))))
    # Early resolution due Tue 23 Mar; Stage 1 counted from receipt would be Thu 25 Mar.
    assert stage_facts(ctx.state, three_days).respond_by == date(2027, 3, 23)
    # Resolved on Wed 24 Mar: a day late for early resolution, so late in the reports too.
    effects.clock = at(date(2027, 3, 24))
    resolution = cmd.ResolveEarly(actor=OFFICER, outcome=Outcome.UPHELD, findings="Collected.")
    await run(ctx, "resolve_early", resolution)
    facts = stage_facts(ctx.state, three_days)
    assert (facts.original_respond_by, facts.respond_by_when_answered, facts.responded_on) == (
        date(2027, 3, 23),
        date(2027, 3, 23),
        date(2027, 3, 24),
    )
    assert facts.early_resolution == "resolved"


def _record(row: CaseRow, received: datetime) -> ComplaintRecord:
    """The read model's record as the case row leaves it (the columns the resident's page reads)."""
    return ComplaintRecord.model_validate(
        {
            **row.model_dump(),
            "status": row.status.value,
            "outcome": None,
            "reference": "TEST-1",
            "workflow_id": "complaint-TEST-1",
            "policy_id": "northern-ireland-model",
            "channel": "web",
            "service_area": "waste",
            "complainant": {},
            "representative": None,
            "anonymous": False,
            "summary": "",
            "desired_outcome": "",
            "staff_complained_about": [],
            "related_to": None,
            "received_at": received,
            "closed_at": None,
            "state": None,
            "last_seq": 1,
            "created_by": "resident",
            "created_at": received,
            "updated_at": received,
        }
    )


async def test_while_early_resolution_runs_the_case_shows_its_date_not_stage_1s() -> None:
    three_days = with_early_resolution(3)
    received = at(date(2027, 3, 17))
    ctx, effects = await new_complaint(three_days, intake(three_days.id, received))
    # Day 0 Thu 18 Mar: early resolution by Fri 19 (1), Mon 22 (2), Tue 23 Mar (3). Stage 1's dates counted
    # from receipt (acknowledge and respond by Thu 25 Mar) do not run yet, so the row does not show them.
    assert ctx.state.current.respond_by == date(2027, 3, 25)
    row = CaseRow.of(ctx.state)
    assert (row.acknowledge_by, row.respond_by) == (None, date(2027, 3, 23))
    text = status_text(_record(row, received))
    assert text == "We aim to resolve your complaint by Tuesday 23 March 2027."
    # The officer it is assigned to is told the early resolution's date, not Stage 1's.
    await run(ctx, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    text = render(effects.sent[-1].template, effects.sent[-1].context, three_days).text
    assert "It is at early resolution, due by Tuesday 23 March 2027" in text
    assert "25 March" not in text
    # Once the investigation starts (asked on Tue 23 Mar: Stage 1 due Thu 1 Apr), the row shows Stage 1's.
    effects.clock = at(date(2027, 3, 23))
    await run(ctx, "start_investigation", cmd.StartInvestigation(actor=OFFICER, because="requested"))
    row = CaseRow.of(ctx.state)
    assert (row.acknowledge_by, row.respond_by) == (date(2027, 4, 1), date(2027, 4, 1))
    assert status_text(_record(row, received)) == (
        "We have received your complaint. We will acknowledge it by Thursday 1 April 2027."
    )


async def test_a_policy_without_the_step_refuses_it(policies: dict[str, Policy]) -> None:
    policy = policies["northern-ireland-model"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(date(2027, 3, 17))))
    assert ctx.state.current.early_resolution is None
    command = cmd.StartInvestigation(actor=OFFICER, because="requested")
    refusal = ACTIONS["start_investigation"].refusal(ctx.state, policy, command, effects.now())
    assert refusal is not None and "no early-resolution step" in refusal.message
    # Stage 1 runs from receipt as before: 5 working days from day 0 Thu 18 Mar = Thu 25 Mar.
    assert ctx.state.current.respond_by == date(2027, 3, 25)
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))


async def _next_timer_kind(ctx: object) -> str:
    from domain import timers

    assert hasattr(ctx, "state") and hasattr(ctx, "policy") and hasattr(ctx, "effects")
    effects = ctx.effects
    assert isinstance(effects, DirectEffects)
    timer = timers.next_timer(ctx.state, ctx.policy, effects.now())
    assert timer is not None
    return timer.kind


async def test_the_workflow_runs_the_step(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    # The same step through the real workflow (time-skipping Temporal, real PostgreSQL): Bexley with an early
    # resolution within 5 working days before its Stage 1 (15 working days).
    data = tomllib.loads((POLICIES / "bexley.toml").read_text(encoding="utf-8"))
    data["id"] = "bexley-three-tier"
    data["early_resolution"] = {"handled_by": "The service", "resolve": {"amount": 5}}
    three_tier = Policy.model_validate(data)
    async with running_worker(temporal_env, pool, {**policies, three_tier.id: three_tier}, task_queue):
        monday = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(temporal_env, task_queue, intake(three_tier.id, monday))
        state = await state_of(handle)
        assert state.current.early_resolution is not None
        assert state.current.early_resolution.on == after(monday.date(), 5)
        # Two days later the officer decides it needs an investigation: Stage 1 counts from Wednesday.
        await move_to(temporal_env, monday + timedelta(days=2))
        command = cmd.StartInvestigation(actor=OFFICER, because="not_suitable")
        state = await act(handle, "start_investigation", command)
        assert state.current.respond_by == after(monday.date() + timedelta(days=2), 15)
        state = await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        assert state.status is Status.ACKNOWLEDGED

        other = await open_complaint(
            temporal_env, task_queue, intake(three_tier.id, monday + timedelta(days=2))
        )
        resolution = cmd.ResolveEarly(
            actor=OFFICER, outcome=Outcome.NOT_UPHELD, findings="Collected on time."
        )
        state = await act(other, "resolve_early", resolution)
        assert state.status is Status.CLOSED
        assert state.recent[-1].action == "resolve_early"
        # Reports can count frontline resolutions apart from investigations (the stage facts' column).
        rows = await pool.fetch(
            "SELECT reference, early_resolution, outcome FROM complaint_stages WHERE policy_id = $1",
            three_tier.id,
        )
        found = {row["reference"]: (row["early_resolution"], row["outcome"]) for row in rows}
        assert found[state.reference] == ("resolved", "not_upheld")
        first = (await state_of(handle)).reference
        assert found[first] == ("not_suitable", None)
        # The performance report counts them apart: one resolved early, one investigated.
        wednesday = monday.date() + timedelta(days=2)
        report = await reports.performance(pool, start=monday.date(), end=wednesday, policy_id=three_tier.id)
        assert report["early_resolution"] == {
            "resolved": 1,
            "investigated": 1,
            "investigation_requested": 0,
            "not_suitable": 1,
        }
        assert ("total", "", "stage1", "early_resolution_resolved", 1) in reports.rows_for_csv(report)
        # Received on the Monday only: the one that went to investigation.
        report = await reports.performance(
            pool, start=monday.date(), end=monday.date(), policy_id=three_tier.id
        )
        assert (report["early_resolution"]["resolved"], report["early_resolution"]["investigated"]) == (0, 1)
