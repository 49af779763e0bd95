"""Working-day arithmetic in a council's local dates.

Rules (from the product brief):
- Working days are Monday to Friday, less the nation's bank holidays and the council's closure days.
- Dates are local dates in the council's timezone: 23:30 UTC on a summer evening is already the next day.
- The day of receipt is day 0; a receipt on a non-working day counts as received on the next working day.
- "Within N working days" means by the end of the Nth working day after day 0.
- Calendar-day and calendar-month windows are plain calendar arithmetic (31 January + 1 month = the last day
  of February) and are not moved off weekends: the date told to the resident is the date.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from domain.policy import Nation, Unit

_SUBDIVISION = {
    Nation.ENGLAND_AND_WALES: "ENG",
    Nation.SCOTLAND: "SCT",
    Nation.NORTHERN_IRELAND: "NIR",
    Nation.WALES: "WLS",  # the same bank holidays as England
}


@lru_cache(maxsize=64)
def bank_holidays(nation: Nation, year: int) -> frozenset[date]:
    """The nation's bank holidays in `year`, from the `holidays` package."""
    # categories=PUBLIC is the package's default for GB and gives the bank holidays, substitute days included.
    return frozenset(holidays.country_holidays("GB", subdiv=_SUBDIVISION[nation], years=year).keys())


def add_months(start: date, months: int) -> date:
    """Calendar months, clamped to the month's end (31 January + 1 month = 28 or 29 February)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last_day = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


class WorkingCalendar:
    """The working days of one council: weekends, its nation's bank holidays and its own closure days."""

    def __init__(self, nation: Nation, timezone: str = "Europe/London", closure_days: Iterable[date] = ()):
        self.nation = nation
        self.zone = ZoneInfo(timezone)
        self.closure_days = frozenset(closure_days)

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        return day not in self.closure_days and day not in bank_holidays(self.nation, day.year)

    def local_date(self, moment: datetime | date) -> date:
        """The council's local date of an instant (a plain date is taken as already local)."""
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                raise ValueError("a datetime must carry a timezone to be placed in the council's day")
            return moment.astimezone(self.zone).date()
        return moment

    def next_working_day_on_or_after(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def day_zero(self, moment: datetime | date) -> date:
        """Day 0 of a window that starts at `moment`: its local date, moved to a working day if needed."""
        return self.next_working_day_on_or_after(self.local_date(moment))

    def add_working_days(self, start: datetime | date, count: int) -> date:
        """The end of the `count`th working day after day 0 of `start`."""
        return self.working_days_after(self.day_zero(start), count)

    def working_days_after(self, day: date, count: int) -> date:
        """The end of the `count`th working day after `day`, whatever `day` is (a stage whose counting
        starts the day after receipt: a Saturday receipt has the Monday as day 1)."""
        if count < 0:
            raise ValueError("count must not be negative")
        added = 0
        while added < count:
            day += timedelta(days=1)
            if self.is_working_day(day):
                added += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days pass from the end of `start` to `end`."""
        if end <= start:
            return 0
        return sum(
            1 for offset in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(offset))
        )

    def subtract_working_days(self, end: date, count: int) -> date:
        """The working day `count` working days before `end` (used for staff reminders)."""
        day = end
        removed = 0
        while removed < count:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                removed += 1
        return day

    def add(self, start: datetime | date, amount: int, unit: Unit) -> date:
        """A window's last day: `amount` `unit`s after `start`."""
        if unit is Unit.WORKING_DAYS:
            return self.add_working_days(start, amount)
        local = self.local_date(start)
        if unit is Unit.CALENDAR_DAYS:
            return local + timedelta(days=amount)
        return add_months(local, amount)

    def end_of_day(self, day: date) -> datetime:
        """The last instant of a local day, as an aware datetime: a deadline is met until then."""
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        return next_midnight - timedelta(microseconds=1)

    def start_of_day(self, day: date) -> datetime:
        """The first instant of a local day (09:00 would be kinder, but reminders go to staff queues)."""
        return datetime.combine(day, time(0), tzinfo=self.zone)
