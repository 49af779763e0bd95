"""When a deadline shows as due soon or overdue on the staff's queues: one rule for the complaint queues
(web/staff/queues.py: "Due within 3 working days", "Overdue") and the triage queue's held submissions
(inbound/triage.py: the acknowledgement date their senders were told)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from domain.calendar import WorkingCalendar
from domain.policy import Nation

DUE_SOON_WORKING_DAYS = 3
LONDON = ZoneInfo("Europe/London")
Due = Literal["overdue", "due_soon"]


def due_soon_cutoff(today: date) -> datetime:
    """The end of the 3rd working day from today (England and Wales' bank holidays: most councils')."""
    last = WorkingCalendar(Nation.ENGLAND_AND_WALES).add_working_days(today, DUE_SOON_WORKING_DAYS)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=LONDON)


def due_state(deadline: datetime, now: datetime) -> Due | None:
    """`overdue` once the deadline passed, `due_soon` when it passes by the cutoff, else None."""
    if deadline < now:
        return "overdue"
    if deadline < due_soon_cutoff(now.astimezone(LONDON).date()):
        return "due_soon"
    return None
