"""The deadline explanation on the case page: for each date, what it counts from, the working days
counted, and the weekends, bank holidays and closure days skipped, then the clock stops, extensions and
recalculations that moved it (the stage's ledger). Derived from the domain's calendar and the policy, so it
says exactly what the deadline planner did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from domain.calendar import bank_holidays
from domain.deadlines import calendar_for
from domain.policy import CountsFrom, Policy, Unit, Window


@dataclass
class Explanation:
    label: str
    due: date | None
    counts_from: str
    start: date | None
    rule: str
    counted: int = 0
    weekends: int = 0
    bank_holidays: list[date] = field(default_factory=list)
    closure_days: list[date] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


def _window(
    policy: Policy, label: str, window: Window, start: date | None, due: date | None, counts_from: str
) -> Explanation:
    unit = window.unit.value.replace("_", " ")
    rule = f"{window.amount} {unit} from {counts_from}"
    explanation = Explanation(label, due, counts_from, start, rule)
    if start is None or due is None:
        return explanation
    if window.unit is not Unit.WORKING_DAYS:
        explanation.rule += " (calendar arithmetic: not moved off weekends or holidays)"
        return explanation
    cal = calendar_for(policy)
    day = start
    while day < due:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            explanation.counted += 1
        elif day.weekday() >= 5:
            explanation.weekends += 1
        elif day in policy.closure_days:
            explanation.closure_days.append(day)
        elif day in bank_holidays(policy.nation, day.year):
            explanation.bank_holidays.append(day)
    return explanation


def explain(
    policy: Policy,
    stage: dict[str, Any] | None,
    ledger: list[dict[str, Any]],
    escalation_request_by: date | None,
) -> list[Explanation]:
    """The current stage's dates, explained. `stage` is its row of facts (complaint_stages)."""
    if stage is None:
        return []
    number = int(stage["stage"])
    rules = policy.stage(number)
    day_zero: date | None = stage["day_zero"]
    received = "the escalation request" if number == 2 else "receipt of the complaint"
    zero_words = f"day 0, {received} ({day_zero:%d %b %Y}" if day_zero else received
    if day_zero and stage["received_on"] and day_zero != stage["received_on"]:
        zero_words += f"; received on {stage['received_on']:%d %b %Y}, not a working day, so the next one"
    zero_words += ")" if day_zero else ""
    found = [
        _window(policy, "Acknowledge by", rules.acknowledge, day_zero, stage["acknowledge_by"], zero_words)
    ]
    if rules.respond.counts_from is CountsFrom.ACKNOWLEDGEMENT:
        start = stage["acknowledged_on"] or stage["acknowledge_by"]
        words = (
            f"the acknowledgement ({start:%d %b %Y})"
            if stage["acknowledged_on"]
            else f"the acknowledgement's due date ({start:%d %b %Y}), as it is not yet acknowledged"
        )
    else:
        start, words = day_zero, zero_words
    respond = _window(policy, "Respond by", rules.respond, start, stage["original_respond_by"], words)
    respond.due = stage["respond_by"]
    for entry in ledger:
        if entry.get("kind") == "planned":
            continue
        respond.changes.append(entry)
    found.append(respond)
    if escalation_request_by and rules.escalation_request is not None:
        window = rules.escalation_request
        what = (
            "the day the complainant received the response"
            if window.counts_from is CountsFrom.RESPONSE_RECEIVED
            else "the response"
        )
        responded: date | None = stage["responded_on"]
        found.append(
            _window(policy, "Stage 2 may be asked for until", window, responded, escalation_request_by, what)
        )
    return found
