"""The facts reports count, per stage of a complaint: a pure function of the complaint's state and policy.

The workflow builds them after every event (they travel with the record activity) and the read-model rebuild
builds them from each workflow's state, so both paths write the same `complaint_stages` row. Every figure of
a report is then computed in SQL over these rows (store/reports.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.deadlines import calendar_for
from domain.models import (
    ComplaintState,
    StageFacts,
    StageState,
    Status,
)
from domain.ombudsman_decisions import UNRECORDED, Finding
from domain.policy import Policy
from domain.tsm import code_dates

# How a stage can end without moving on: the status says which.
ENDINGS = {Status.DECLINED, Status.WITHDRAWN, Status.CLOSED, Status.ESCALATION_REFUSED}


def _moment(value: Any) -> datetime | None:
    """A moment kept in a free-form dict (the ombudsman's): a datetime, or its ISO text after a query."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _finding(ombudsman: dict[str, Any]) -> str:
    """The decision as reports count it: the body's determination and any complaint-handling failure, as one
    code (domain/ombudsman_decisions.py). One recorded as free text before counts as unrecorded, unnamed."""
    determination = ombudsman.get("determination")
    if not isinstance(determination, str):
        return UNRECORDED
    failure = bool(ombudsman.get("complaint_handling_failure"))
    return Finding(str(ombudsman.get("body", "")), determination, failure).code()[:100]


def _deadline_when_answered(stage: StageState, responded_on: date) -> date:
    """The response date in force when the response was sent: the ledger's last line before it. A response
    sent while the clock was stopped (stopped before the date passed) was not late, whatever the date."""
    assert stage.responded_at is not None
    in_force = stage.respond_by
    for entry in stage.ledger:
        if entry.at <= stage.responded_at:
            in_force = entry.respond_by
    stopped = next(
        (
            pause
            for pause in stage.pauses
            if pause.ended_at == stage.responded_at and pause.working_days_lost == 0
        ),
        None,
    )
    if stopped is not None and stopped.started_at <= stage.plan.respond.at:
        return max(in_force, responded_on)
    return in_force


def _original_deadline(stage: StageState) -> date:
    """The response date first promised: the last plan (a from-acknowledgement window is planned again
    when the stage is acknowledged), before any extension, clock stop or recalculation."""
    planned = [entry.respond_by for entry in stage.ledger if entry.kind == "planned"]
    return planned[-1] if planned else stage.plan.deadlines.respond_by


def stage_facts(state: ComplaintState, policy: Policy, number: int | None = None) -> StageFacts:
    """The facts of stage `number` (default: the current stage) after the complaint's latest event."""
    stage = state.stage_state(number) if number is not None else state.current
    assert stage is not None, f"{state.reference} has no stage {number}"
    cal = calendar_for(policy)
    day_zero = stage.plan.deadlines.day_zero
    responded_on = cal.local_date(stage.responded_at) if stage.responded_at else None

    extended = [index for index, entry in enumerate(stage.ledger) if entry.kind == "extended"]
    extension_days = 0
    for index in extended:
        before = stage.ledger[index - 1].respond_by if index else stage.respond_by
        extension_days += cal.working_days_between(before, stage.ledger[index].respond_by)

    # The move into the ending, kept on the stage by domain.lifecycle (a stage closed and then reopened by a
    # late Stage 2 request keeps its closure: it did end).
    ended = stage.ended.value if stage.ended is not None else None
    closed_on = cal.local_date(stage.ended_at) if stage.ended_at is not None else None

    independent: bool | None = None
    if stage.number >= 2 and stage.responded_by is not None:
        first = state.stage_state(1)
        independent = first is None or first.responded_by != stage.responded_by

    original_respond_by, respond_by = _original_deadline(stage), stage.respond_by
    when_answered = _deadline_when_answered(stage, responded_on) if responded_on else None
    if stage.early_resolution is not None and stage.early_resolution_ended in (None, "resolved"):
        # Issue 28: at (or resolved at) early resolution, Stage 1's dates counted from receipt never ran:
        # the stage was due by the early resolution's date, and its response is on time against that.
        original_respond_by = respond_by = stage.early_resolution.on
        when_answered = stage.early_resolution.on if responded_on else None

    referred = _moment(state.ombudsman.get("referred_at"))
    decided = _moment(state.ombudsman.get("decided_at"))
    decision = _finding(state.ombudsman) if decided else None
    return StageFacts(
        number=stage.number,
        received_on=cal.local_date(stage.received_at),
        day_zero=day_zero,
        acknowledge_by=stage.plan.deadlines.acknowledge_by,
        acknowledged_on=cal.local_date(stage.acknowledged_at) if stage.acknowledged_at else None,
        original_respond_by=original_respond_by,
        respond_by=respond_by,
        respond_by_when_answered=when_answered,
        responded_on=responded_on,
        working_days_to_respond=(
            cal.working_days_between(day_zero, responded_on)
            - sum(pause.working_days_lost for pause in stage.pauses)
            if responded_on
            else None
        ),
        closed_on=closed_on,
        ended=ended,
        outcome=stage.outcome,
        exclusion=stage.exclusion,
        extensions=len(extended),
        extension_working_days=extension_days,
        extended_with_agreement=any(entry.kind == "agreement" for entry in stage.ledger),
        clock_stops=len(stage.pauses),
        clock_stopped_working_days=sum(pause.working_days_lost for pause in stage.pauses),
        remedies=list(stage.remedies),
        stage2_by_other_than_stage1=independent,
        actions_promised=len(state.actions),
        actions_done=sum(1 for action in state.actions if action.completed_at is not None),
        # The workflow's action timer flags an action overdue (and records it) the day after it was due.
        actions_overdue=sum(1 for action in state.actions if action.completed_at is None and action.overdue),
        ombudsman_referred_on=cal.local_date(referred) if referred else None,
        ombudsman_decided_on=cal.local_date(decided) if decided else None,
        ombudsman_decision=decision,
        root_cause=stage.root_cause,
        early_resolution=stage.early_resolution_ended,
    )


def with_code_clock(facts: StageFacts, policy: Policy) -> StageFacts:
    """The facts with the stage's dates on the Complaint Handling Code's clock (CH02), from the council's
    working calendar: computed where a stage is recorded (the record activity, the read-model rebuild)."""
    dates = code_dates(
        calendar_for(policy),
        stage=facts.number,
        day_zero=facts.day_zero,
        acknowledged_on=facts.acknowledged_on,
        extension_working_days=facts.extension_working_days,
    )
    return facts.model_copy(
        update={"code_acknowledge_by": dates.acknowledge_by, "code_respond_by": dates.respond_by}
    )
