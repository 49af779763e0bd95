"""Policy periods in residents' words, for the pages ("10 working days", "2 months")."""

from __future__ import annotations

from domain.policy import Unit, Window

_UNITS = {
    Unit.WORKING_DAYS: ("working day", "working days"),
    Unit.CALENDAR_DAYS: ("day", "days"),
    Unit.CALENDAR_MONTHS: ("month", "months"),
}


def window_words(window: Window) -> str:
    one, many = _UNITS[window.unit]
    return f"{window.amount} {one if window.amount == 1 else many}"
