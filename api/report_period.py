"""The period a report is asked for: `from` and `to`, local dates, both inclusive. The rules every report
applies to it, in one place (the performance and self-assessment reports apply all three; the equality
report adds its own minimum; the service-request report takes any year)."""

from __future__ import annotations

from datetime import date

from api.errors import ProblemError

MAX_SPAN_DAYS = 10 * 366  # a typo (2027 to 2207) is refused


def in_service_years(start: date, end: date) -> None:
    """The service's dates are 2000 to 2099 (domain/inputs.py); date arithmetic past 9999 would overflow."""
    for name, day in (("from", start), ("to", end)):
        if not 2000 <= day.year <= 2100:
            raise ProblemError(422, "Invalid request", f"{name}: a date from 2000 to 2100 is needed")


def in_order(start: date, end: date) -> None:
    if end < start:
        raise ProblemError(422, "Invalid request", "to: must be on or after from")


def at_most_ten_years(start: date, end: date) -> None:
    if (end - start).days > MAX_SPAN_DAYS:
        raise ProblemError(422, "Invalid request", "to: a report covers at most ten years")


def report_period(start: date, end: date) -> None:
    in_service_years(start, end)
    in_order(start, end)
    at_most_ten_years(start, end)
