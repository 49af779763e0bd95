"""Properties of the working-day calendar that must hold for any start, count and nation."""

from __future__ import annotations

import calendar as stdlib_calendar
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar, add_months
from domain.policy import Nation

CALENDARS = {
    nation: WorkingCalendar(nation, closure_days=closures)
    for nation, closures in [
        (Nation.ENGLAND_AND_WALES, ()),
        (Nation.SCOTLAND, ()),
        # a council that closes between Christmas and New Year
        (Nation.NORTHERN_IRELAND, (date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31))),
    ]
}

calendars = st.sampled_from(list(CALENDARS.values()))
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
starts = st.one_of(days, instants)
counts = st.integers(min_value=0, max_value=60)

# Applied per test rather than as a profile, so other test modules keep their own settings.
PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(calendars, starts, counts)
def test_due_date_is_a_working_day_not_before_the_local_start(
    cal: WorkingCalendar, start: date | datetime, count: int
) -> None:
    due = cal.add_working_days(start, count)
    assert cal.is_working_day(due)
    assert due >= cal.local_date(start)
    if count > 0:
        assert due > cal.local_date(start)


@PROPERTY
@given(calendars, days, days, counts)
def test_monotonic_in_the_start(cal: WorkingCalendar, first: date, second: date, count: int) -> None:
    early, late = sorted((first, second))
    assert cal.add_working_days(early, count) <= cal.add_working_days(late, count)


@PROPERTY
@given(calendars, starts, counts, st.integers(min_value=1, max_value=30))
def test_strictly_monotonic_in_the_count(
    cal: WorkingCalendar, start: date | datetime, count: int, more: int
) -> None:
    assert cal.add_working_days(start, count) < cal.add_working_days(start, count + more)


@PROPERTY
@given(calendars, starts, counts)
def test_each_extra_working_day_is_the_next_working_day(
    cal: WorkingCalendar, start: date | datetime, count: int
) -> None:
    due = cal.add_working_days(start, count)
    following = cal.add_working_days(start, count + 1)
    # nothing between them is a working day
    gap = [due + timedelta(days=offset) for offset in range(1, (following - due).days)]
    assert not any(cal.is_working_day(day) for day in gap)


@PROPERTY
@given(calendars, starts, counts)
def test_working_days_between_inverts_add_working_days(
    cal: WorkingCalendar, start: date | datetime, count: int
) -> None:
    day_zero = cal.day_zero(start)
    assert cal.working_days_between(day_zero, cal.add_working_days(start, count)) == count


@PROPERTY
@given(calendars, days, days)
def test_add_working_days_inverts_working_days_between(
    cal: WorkingCalendar, first: date, second: date
) -> None:
    start = cal.next_working_day_on_or_after(min(first, second))
    end = cal.next_working_day_on_or_after(max(first, second))
    assert cal.add_working_days(start, cal.working_days_between(start, end)) == end


@PROPERTY
@given(calendars, days, counts)
def test_subtract_then_add_returns_to_a_working_day(cal: WorkingCalendar, day: date, count: int) -> None:
    end = cal.next_working_day_on_or_after(day)
    assert cal.add_working_days(cal.subtract_working_days(end, count), count) == end


@PROPERTY
@given(days, st.integers(min_value=-36, max_value=36))
def test_add_months_clamps_to_the_month_end(start: date, months: int) -> None:
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    last_day = stdlib_calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(start.day, last_day)
    if result.day < start.day:
        assert result.day == last_day


@PROPERTY
@given(st.integers(min_value=2024, max_value=2030), st.integers(min_value=0, max_value=11))
def test_last_day_of_january_plus_months_is_a_month_end(year: int, months: int) -> None:
    result = add_months(date(year, 1, 31), months)
    assert (result + timedelta(days=1)).day == 1
