"""A stage's deadlines under a policy: pure functions of the policy, the calendar and the stage's events.

Called from an activity (never from workflow code), so holiday data is read once, when a stage starts or an
officer asks for a recalculation, and the resulting dates are stored in the workflow.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from domain.calendar import WorkingCalendar
from domain.policy import CountingStarts, CountsFrom, Policy, SentBy, Unit, Window


class StageDeadlines(BaseModel):
    """The dates a stage runs to, as local dates of the council."""

    stage: int
    day_zero: date
    acknowledge_by: date
    respond_by: date
    extension_limit_by: date | None
    escalation_request_by: date | None = None


def calendar_for(policy: Policy) -> WorkingCalendar:
    return WorkingCalendar(policy.nation, policy.timezone, policy.closure_days)


def window_end(
    cal: WorkingCalendar, counting: CountingStarts, start: datetime | date, window: Window
) -> date:
    """The last day of `window` from `start` under a step's counting rule (issue 28), for Stage windows and
    the early-resolution step alike: from day 0, the first working day on or after `start`; or, counting
    from the day after receipt, with `start`'s own local date as day 0 (a Saturday receipt has the Monday as
    day 1). Calendar-day windows count from the local date either way."""
    if counting is CountingStarts.DAY_AFTER_RECEIPT and window.unit is Unit.WORKING_DAYS:
        return cal.working_days_after(cal.local_date(start), window.amount)
    return cal.add(start, window.amount, window.unit)


def plan_stage(
    policy: Policy,
    stage_number: int,
    received: datetime | date,
    acknowledged: datetime | date | None = None,
    responded: datetime | date | None = None,
    sent_by: SentBy = SentBy.EMAIL,
    matter_arose_on: date | None = None,
) -> StageDeadlines:
    """Deadlines of one stage.

    `received` is the receipt of the complaint (Stage 1) or of the escalation request (Stage 2). When the
    response counts from acknowledgement and the stage is not yet acknowledged, acknowledgement is assumed on
    its due date: the latest the council may take, so the response date is never promised too early.
    """
    stage = policy.stage(stage_number)
    cal = calendar_for(policy)
    # Issue 28: a stage counting from the day after receipt has the day of receipt itself as day 0, even a
    # Saturday or a bank holiday (the next working day is then day 1).
    start_of = cal.local_date if stage.counting_starts is CountingStarts.DAY_AFTER_RECEIPT else cal.day_zero

    def add(start: date, window: Window) -> date:
        return window_end(cal, stage.counting_starts, start, window)

    day_zero = start_of(received)
    # --- issue 24 (seed rules): a calendar-day acknowledgement (council-003's "within five days") is plain
    # calendar arithmetic from the local day of receipt, like every calendar window.
    ack_start = day_zero if stage.acknowledge.unit is Unit.WORKING_DAYS else cal.local_date(received)
    acknowledge_by = add(ack_start, stage.acknowledge)
    # --- end issue 24
    if stage.respond.counts_from is CountsFrom.ACKNOWLEDGEMENT:
        respond_start: date = response_counts_from(policy, stage_number, acknowledge_by, acknowledged)
    else:
        respond_start = day_zero
    respond_by = add(respond_start, stage.respond)
    return StageDeadlines(
        stage=stage_number,
        day_zero=day_zero,
        acknowledge_by=acknowledge_by,
        respond_by=respond_by,
        extension_limit_by=extension_limit(policy, stage_number, respond_by),
        escalation_request_by=(
            escalation_request_by(policy, stage_number, responded, sent_by, received, matter_arose_on)
            if responded
            else None
        ),
    )


# --- issue 24 (seed rules)
def response_counts_from(
    policy: Policy, stage_number: int, acknowledge_by: date, acknowledged: datetime | date | None
) -> date:
    """Day 0 of a response window that counts from acknowledgement: the one rule for the complaint and the
    date planner (`complaints deadlines --acknowledged`, `GET /api/policies/{id}/deadlines?acknowledged=`).

    Barking and Dagenham: "a full response within 10 working days after we acknowledge your complaint"; the
    Code likewise. A late acknowledgement buys no time: the response counts from the earlier of the
    acknowledgement and its due date, unless the policy says a late one moves it
    (`late_acknowledgement_moves_response`). Not yet acknowledged, it is assumed on its due date."""
    cal = calendar_for(policy)
    stage = policy.stage(stage_number)
    # Issue 28: a stage counting from the day after receipt counts from the acknowledgement's own day.
    start_of = cal.local_date if stage.counting_starts is CountingStarts.DAY_AFTER_RECEIPT else cal.day_zero
    if acknowledged is None:
        return start_of(acknowledge_by)
    acknowledged_day = start_of(acknowledged)
    if stage.late_acknowledgement_moves_response:
        return acknowledged_day
    return min(acknowledged_day, start_of(acknowledge_by))


# --- end issue 24


# --- issue 28: the early-resolution step before Stage 1 ---
def early_resolution_by(policy: Policy, received: datetime | date) -> date | None:
    """The last day of the policy's early-resolution step for a complaint received then (None: no such step).
    If it is not resolved early, Stage 1 is planned from the resident's request for an investigation or the
    officer's decision that early resolution does not fit: `plan_stage(policy, 1, that_moment)`."""
    step = policy.early_resolution
    if step is None:
        return None
    return window_end(calendar_for(policy), step.counting_starts, received, step.resolve)


def extension_limit(policy: Policy, stage_number: int, respond_by: date) -> date | None:
    """The latest response date the officer may set without the complainant's agreement."""
    extension = policy.stage(stage_number).extension
    if not extension.agreement_needed_beyond_limit:
        return None
    return calendar_for(policy).add_working_days(respond_by, extension.officer_limit_working_days)


def response_received_on(policy: Policy, responded: datetime | date, sent_by: SentBy) -> date:
    """The day the complainant got a response: the day it was sent, or (by post) the policy's allowance of
    working days after it (by default the second working day after posting)."""
    cal = calendar_for(policy)
    days = policy.response_receipt.working_days(sent_by)
    return cal.add_working_days(responded, days) if days else cal.local_date(responded)


def escalation_request_by(
    policy: Policy,
    stage_number: int,
    responded: datetime | date,
    sent_by: SentBy = SentBy.EMAIL,
    received: datetime | date | None = None,
    matter_arose_on: date | None = None,
) -> date | None:
    """The last day the complainant may ask for the next stage, or None at the last stage.

    The window counts from the day the response was sent, or (`from = "response_received"`) from the day
    the complainant got it: Bexley's "within 20 working days from receipt of the Stage 1 response". A window
    of several limbs ends on the later (or earlier) of their last days (issue 28), each limb from its own
    anchor: `received` (this stage's receipt; unknown, the response) and `matter_arose_on` (unknown, the
    receipt: the latest the matter can have arisen, so a missing date never shortens the window)."""
    window = policy.stage(stage_number).escalation_request
    if window is None:
        return None
    cal = calendar_for(policy)
    received_or_later: datetime | date = received if received is not None else responded
    anchors: dict[CountsFrom, datetime | date] = {
        CountsFrom.RESPONSE: responded,
        CountsFrom.RESPONSE_RECEIVED: response_received_on(policy, responded, sent_by),
        CountsFrom.RECEIPT: received_or_later,
        CountsFrom.MATTER_AROSE: matter_arose_on if matter_arose_on is not None else received_or_later,
    }
    # Working-day windows start from day 0; calendar windows from the local date.
    last_days = [cal.add(anchors[limb.counts_from], limb.amount, limb.unit) for limb in window.limbs]
    return max(last_days) if window.takes_later else min(last_days)


def resume_after_pause(policy: Policy, due: date, paused_from: date, resumed_on: date) -> tuple[date, int]:
    """Where the response clock stopped while waiting for the complainant: the moved due date and the
    number of working days the clock was stopped (the ledger entry shown to the resident)."""
    cal = calendar_for(policy)
    lost = cal.working_days_between(cal.day_zero(paused_from), cal.day_zero(resumed_on))
    return cal.add_working_days(due, lost) if lost else due, lost


def reminder_days(policy: Policy, due: date) -> list[date]:
    """The working days on which staff are reminded of a due date, earliest first."""
    cal = calendar_for(policy)
    return sorted({cal.subtract_working_days(due, offset) for offset in policy.reminder_offsets_working_days})
