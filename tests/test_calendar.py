"""Working-day arithmetic and stage deadlines for every shipped policy, against dates worked out by hand.

Every expected date below was counted by hand from the published UK bank holidays and checked against a
printed calendar. The comment beside each case shows the count (n = the nth working day after day 0).

England and Wales bank holidays used:
  2026: Fri 25 Dec (Christmas), Mon 28 Dec (Boxing Day substitute; 26 Dec is a Saturday)
  2027: Fri 1 Jan, Fri 26 Mar (Good Friday), Mon 29 Mar (Easter Monday), Mon 3 May, Mon 31 May,
        Mon 30 Aug, Mon 27 Dec and Tue 28 Dec (substitutes; 25 and 26 Dec are a weekend)
  2028: Mon 3 Jan (substitute; 1 Jan is a Saturday)
Scotland differs: no Easter Monday; Mon 30 Nov 2026 (St Andrew's Day); 2 Jan 2027 is a Saturday, so its
substitute is Mon 4 Jan 2027; summer holiday Mon 2 Aug 2027 instead of 30 Aug; Tue 30 Nov 2027.
British Summer Time 2027: from 01:00 UTC Sun 28 Mar to 01:00 UTC Sun 31 Oct.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.calendar import WorkingCalendar, add_months
from domain.deadlines import (
    escalation_request_by,
    extension_limit,
    plan_stage,
    reminder_days,
    resume_after_pause,
)
from domain.policy import Nation, Policy, Unit
from domain.policy_files import load_policies
from tests.shipped_policies import ENGLISH, OTHER_NATIONS, POLICIES_DIR

ENGLAND = WorkingCalendar(Nation.ENGLAND_AND_WALES)
SCOTLAND = WorkingCalendar(Nation.SCOTLAND)


@pytest.fixture(scope="module")
def policies() -> dict[str, Policy]:
    return load_policies(POLICIES_DIR)


def test_every_shipped_policy_is_covered(policies: dict[str, Policy]) -> None:
    assert sorted(policies) == sorted(ENGLISH + OTHER_NATIONS)


# --- WorkingCalendar --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "england", "scotland"),
    [
        (date(2026, 11, 30), True, False),  # Mon: St Andrew's Day, Scotland only
        (date(2026, 12, 24), True, True),  # Thu: Christmas Eve is a working day
        (date(2026, 12, 25), False, False),  # Fri: Christmas Day
        (date(2026, 12, 28), False, False),  # Mon: Boxing Day substitute
        (date(2026, 12, 29), True, True),  # Tue
        (date(2027, 1, 1), False, False),  # Fri: New Year's Day
        (date(2027, 1, 2), False, False),  # Sat
        (date(2027, 1, 4), True, False),  # Mon: Scotland's substitute for 2 January
        (date(2027, 3, 26), False, False),  # Fri: Good Friday
        (date(2027, 3, 29), False, True),  # Mon: Easter Monday, not a Scottish bank holiday
        (date(2027, 5, 3), False, False),  # Mon: early May bank holiday
        (date(2027, 5, 31), False, False),  # Mon: spring bank holiday
        (date(2027, 8, 2), True, False),  # Mon: Scottish summer bank holiday
        (date(2027, 8, 30), False, True),  # Mon: English summer bank holiday
        (date(2027, 11, 30), True, False),  # Tue: St Andrew's Day
        (date(2027, 12, 27), False, False),  # Mon: Christmas Day substitute
        (date(2027, 12, 28), False, False),  # Tue: Boxing Day substitute
        (date(2027, 12, 29), True, True),  # Wed
        (date(2028, 1, 3), False, False),  # Mon: New Year's Day substitute
        (date(2027, 2, 6), False, False),  # Sat
        (date(2027, 2, 7), False, False),  # Sun
    ],
)
def test_is_working_day(day: date, england: bool, scotland: bool) -> None:
    assert ENGLAND.is_working_day(day) is england
    assert SCOTLAND.is_working_day(day) is scotland


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        # Christmas and New Year 2026/27: day 0 Wed 23 Dec; 1 Thu 24; (25 hol, 26-27 wknd, 28 hol) 2 Tue 29;
        # 3 Wed 30; 4 Thu 31; (1 Jan hol, 2-3 wknd) 5 Mon 4 Jan
        (date(2026, 12, 23), 5, date(2027, 1, 4)),
        (date(2026, 12, 24), 2, date(2026, 12, 30)),  # day 0 Thu 24; 1 Tue 29; 2 Wed 30
        # receipt on Christmas Day: day 0 is Tue 29; 1 Wed 30; 2 Thu 31; 3 Mon 4; 4 Tue 5; 5 Wed 6 Jan
        (date(2026, 12, 25), 5, date(2027, 1, 6)),
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # year end: Thu 31 Dec; 1 Mon 4 Jan
        (date(2027, 1, 2), 0, date(2027, 1, 4)),  # Sat 2 Jan: day 0 is Mon 4 Jan in England
        # Easter 2027: Thu 25 Mar; (26 hol, 27-28 wknd, 29 hol) 1 Tue 30 Mar
        (date(2027, 3, 25), 1, date(2027, 3, 30)),
        # Wed 24 Mar; 1 Thu 25; 2 Tue 30; 3 Wed 31; 4 Thu 1 Apr; 5 Fri 2 Apr
        (date(2027, 3, 24), 5, date(2027, 4, 2)),
        (date(2027, 4, 30), 1, date(2027, 5, 4)),  # Fri 30 Apr; (3 May hol) 1 Tue 4 May
        (date(2027, 5, 28), 1, date(2027, 6, 1)),  # Fri 28 May; (31 May hol) 1 Tue 1 Jun
        # Wed 26 May; 1 Thu 27; 2 Fri 28; 3 Tue 1 Jun; 4 Wed 2; 5 Thu 3 Jun
        (date(2027, 5, 26), 5, date(2027, 6, 3)),
        (date(2027, 2, 6), 2, date(2027, 2, 10)),  # Sat: day 0 Mon 8 Feb; 1 Tue 9; 2 Wed 10
        (date(2027, 2, 7), 0, date(2027, 2, 8)),  # Sun: day 0 Mon 8 Feb
        # Mon 8 Feb; 1-4 Tue 9 - Fri 12; 5-9 Mon 15 - Fri 19; 10 Mon 22 Feb
        (date(2027, 2, 8), 10, date(2027, 2, 22)),
        # year end 2027: Fri 24 Dec; (25-26 wknd, 27-28 hol) 1 Wed 29; 2 Thu 30; 3 Fri 31; (1-2 Jan wknd,
        # 3 Jan hol) 4 Tue 4 Jan 2028; 5 Wed 5 Jan 2028
        (date(2027, 12, 24), 1, date(2027, 12, 29)),
        (date(2027, 12, 24), 5, date(2028, 1, 5)),
    ],
)
def test_add_working_days_england(start: date, count: int, expected: date) -> None:
    assert ENGLAND.add_working_days(start, count) == expected


@pytest.mark.parametrize(
    ("start", "count", "scotland", "england"),
    [
        # Fri 27 Nov 2026 + 1: Scotland skips St Andrew's Day (Mon 30 Nov) -> Tue 1 Dec; England Mon 30 Nov
        (date(2026, 11, 27), 1, date(2026, 12, 1), date(2026, 11, 30)),
        # Thu 31 Dec 2026 + 1: Scotland (1 Jan hol, 2-3 wknd, 4 Jan substitute) -> Tue 5 Jan;
        # England Mon 4 Jan
        (date(2026, 12, 31), 1, date(2027, 1, 5), date(2027, 1, 4)),
        # Sat 2 Jan 2027 is day 0 on Tue 5 Jan in Scotland, Mon 4 Jan in England
        (date(2027, 1, 2), 0, date(2027, 1, 5), date(2027, 1, 4)),
        # Wed 23 Dec 2026 + 5: Scotland 1 Thu 24; 2 Tue 29; 3 Wed 30; 4 Thu 31; (1 Jan, 4 Jan hol) 5 Tue 5 Jan
        (date(2026, 12, 23), 5, date(2027, 1, 5), date(2027, 1, 4)),
        # Thu 25 Mar 2027 + 1: Good Friday in both; Easter Monday only in England
        (date(2027, 3, 25), 1, date(2027, 3, 29), date(2027, 3, 30)),
        # Mon 5 Jul 2027 + 20: England 20 = Mon 2 Aug (5 a week: 5 Mon 12, 10 Mon 19, 15 Mon 26 Jul,
        # 20 Mon 2 Aug); Scotland's summer holiday is 2 Aug -> Tue 3 Aug
        (date(2027, 7, 5), 20, date(2027, 8, 3), date(2027, 8, 2)),
        # Mon 29 Nov 2027 + 1: Scotland skips Tue 30 Nov (St Andrew's Day) -> Wed 1 Dec
        (date(2027, 11, 29), 1, date(2027, 12, 1), date(2027, 11, 30)),
    ],
)
def test_add_working_days_scotland_differs(start: date, count: int, scotland: date, england: date) -> None:
    assert SCOTLAND.add_working_days(start, count) == scotland
    assert ENGLAND.add_working_days(start, count) == england


@pytest.mark.parametrize(
    ("moment", "local", "day_zero"),
    [
        # BST evening: 23:30 UTC Wed 30 Jun 2027 is 00:30 BST Thu 1 Jul
        (datetime(2027, 6, 30, 23, 30, tzinfo=UTC), date(2027, 7, 1), date(2027, 7, 1)),
        # Fri 2 Jul 23:30 UTC is Sat 3 Jul 00:30 BST: a weekend receipt, day 0 Mon 5 Jul
        (datetime(2027, 7, 2, 23, 30, tzinfo=UTC), date(2027, 7, 3), date(2027, 7, 5)),
        # GMT evening: 23:30 UTC Mon 1 Nov 2027 is 23:30 GMT the same day
        (datetime(2027, 11, 1, 23, 30, tzinfo=UTC), date(2027, 11, 1), date(2027, 11, 1)),
        # Sat 27 Mar 2027 23:30 UTC: still GMT (the clocks go forward at 01:00 UTC on Sun 28 Mar) -> Sat 27;
        # day 0 skips Sun 28 and Easter Monday 29 -> Tue 30 Mar
        (datetime(2027, 3, 27, 23, 30, tzinfo=UTC), date(2027, 3, 27), date(2027, 3, 30)),
        # Sun 28 Mar 2027 23:30 UTC: now BST -> 00:30 Mon 29 Mar (Easter Monday) -> day 0 Tue 30 Mar
        (datetime(2027, 3, 28, 23, 30, tzinfo=UTC), date(2027, 3, 29), date(2027, 3, 30)),
        # Wed 31 Mar 2027: 22:59 UTC is 23:59 BST the same day; 23:00 UTC is midnight Thu 1 Apr
        (datetime(2027, 3, 31, 22, 59, tzinfo=UTC), date(2027, 3, 31), date(2027, 3, 31)),
        (datetime(2027, 3, 31, 23, 0, tzinfo=UTC), date(2027, 4, 1), date(2027, 4, 1)),
        # Thu 28 Oct 2027 23:30 UTC: BST -> Fri 29 Oct 00:30
        (datetime(2027, 10, 28, 23, 30, tzinfo=UTC), date(2027, 10, 29), date(2027, 10, 29)),
        # Sat 30 Oct 2027 23:30 UTC: BST until 01:00 UTC Sun 31 Oct -> Sun 31 Oct 00:30; day 0 Mon 1 Nov
        (datetime(2027, 10, 30, 23, 30, tzinfo=UTC), date(2027, 10, 31), date(2027, 11, 1)),
        # Sun 31 Oct 2027 23:30 UTC: GMT again -> still Sun 31 Oct; day 0 Mon 1 Nov
        (datetime(2027, 10, 31, 23, 30, tzinfo=UTC), date(2027, 10, 31), date(2027, 11, 1)),
        # Thu 31 Dec 2026 23:30 UTC (GMT) stays in 2026: year end
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2026, 12, 31), date(2026, 12, 31)),
        # a plain date is already local
        (date(2027, 7, 3), date(2027, 7, 3), date(2027, 7, 5)),
    ],
)
def test_local_date_and_day_zero(moment: datetime | date, local: date, day_zero: date) -> None:
    assert ENGLAND.local_date(moment) == local
    assert ENGLAND.day_zero(moment) == day_zero


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ENGLAND.local_date(datetime(2027, 7, 2, 23, 30))


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        ENGLAND.add_working_days(date(2027, 7, 2), -1)


def test_counting_from_day_zero_or_from_the_day_itself() -> None:
    # Received Sat 27 Mar 2027 (England): day 0 is Tue 30 Mar (Easter Monday 29 Mar is a holiday), so 3
    # working days run to Fri 2 Apr; counted from the Saturday itself (a stage counting from the day after
    # receipt), Tue 30 Mar is day 1 and day 3 is Thu 1 Apr. The same loop serves both.
    assert ENGLAND.add_working_days(date(2027, 3, 27), 3) == date(2027, 4, 2)
    assert ENGLAND.working_days_after(date(2027, 3, 27), 3) == date(2027, 4, 1)
    assert ENGLAND.add_working_days(date(2027, 3, 27), 0) == date(2027, 3, 30)
    with pytest.raises(ValueError):
        ENGLAND.working_days_after(date(2027, 3, 27), -1)


def test_summer_evening_receipt_counts_from_the_next_local_day() -> None:
    # Fri 2 Jul 2027 23:30 UTC = Sat 3 Jul 00:30 BST; day 0 Mon 5 Jul; 2 working days -> Wed 7 Jul.
    # Read as a UTC date (Fri 2 Jul) it would have been Tue 6 Jul.
    assert ENGLAND.add_working_days(datetime(2027, 7, 2, 23, 30, tzinfo=UTC), 2) == date(2027, 7, 7)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 12, 23), date(2027, 1, 4), 5),  # Thu 24, Tue 29, Wed 30, Thu 31, Mon 4
        (date(2027, 3, 25), date(2027, 3, 30), 1),  # Tue 30 only (Good Friday, Easter Monday)
        (date(2027, 4, 30), date(2027, 5, 7), 4),  # Tue 4 - Fri 7 May (Mon 3 May hol)
        (date(2027, 2, 8), date(2027, 2, 8), 0),
        (date(2027, 2, 8), date(2027, 2, 5), 0),  # end before start
        (date(2027, 2, 5), date(2027, 2, 7), 0),  # Fri to Sun: only the weekend
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert ENGLAND.working_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("end", "count", "expected"),
    [
        (date(2027, 3, 30), 1, date(2027, 3, 25)),  # back over Easter Monday, the weekend, Good Friday
        (date(2027, 1, 4), 3, date(2026, 12, 29)),  # 1 Thu 31; 2 Wed 30; 3 Tue 29 Dec (over 1 Jan)
        (date(2027, 6, 1), 2, date(2027, 5, 27)),  # 1 Fri 28 (over Mon 31 May); 2 Thu 27 May
        (date(2027, 2, 10), 0, date(2027, 2, 10)),
    ],
)
def test_subtract_working_days(end: date, count: int, expected: date) -> None:
    assert ENGLAND.subtract_working_days(end, count) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),  # 2027 is not a leap year
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # 2028 is
        (date(2027, 3, 31), 1, date(2027, 4, 30)),
        (date(2026, 11, 30), 2, date(2027, 1, 30)),  # over the year end
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2027, 5, 15), 0, date(2027, 5, 15)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        # 28 calendar days: Mon 7 Dec 2026 + 28 = 35 Dec = Mon 4 Jan 2027
        (date(2026, 12, 7), 28, Unit.CALENDAR_DAYS, date(2027, 1, 4)),
        # Sat 5 Dec 2026 + 28 = Sat 2 Jan 2027: calendar windows are not moved off weekends
        (date(2026, 12, 5), 28, Unit.CALENDAR_DAYS, date(2027, 1, 2)),
        # Fri 26 Feb 2027 + 28 = Fri 26 Mar 2027 (Good Friday), not moved
        (date(2027, 2, 26), 28, Unit.CALENDAR_DAYS, date(2027, 3, 26)),
        # a BST evening datetime: 23:30 UTC Wed 30 Jun 2027 is Thu 1 Jul; + 28 days = Thu 29 Jul
        (datetime(2027, 6, 30, 23, 30, tzinfo=UTC), 28, Unit.CALENDAR_DAYS, date(2027, 7, 29)),
        (date(2027, 1, 31), 1, Unit.CALENDAR_MONTHS, date(2027, 2, 28)),
        (date(2026, 12, 25), 1, Unit.CALENDAR_MONTHS, date(2027, 1, 25)),
        # working days through add(): Wed 23 Dec 2026 + 5 = Mon 4 Jan 2027 (see above)
        (date(2026, 12, 23), 5, Unit.WORKING_DAYS, date(2027, 1, 4)),
    ],
)
def test_add_by_unit(start: datetime | date, amount: int, unit: Unit, expected: date) -> None:
    assert ENGLAND.add(start, amount, unit) == expected


def test_closure_days_are_skipped() -> None:
    # A council closed Tue 29 - Thu 31 Dec 2026: Wed 23 Dec; 1 Thu 24; (25 hol, 26-27 wknd, 28 hol,
    # 29-31 closed, 1 Jan hol, 2-3 wknd) 2 Mon 4 Jan
    closed = WorkingCalendar(
        Nation.ENGLAND_AND_WALES, closure_days=[date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]
    )
    assert not closed.is_working_day(date(2026, 12, 30))
    assert closed.add_working_days(date(2026, 12, 23), 2) == date(2027, 1, 4)
    assert ENGLAND.add_working_days(date(2026, 12, 23), 2) == date(2026, 12, 29)


def test_end_and_start_of_day_are_local() -> None:
    # 1 Jul 2027 is in BST (UTC+1): the day ends at 22:59:59.999999 UTC and starts at 23:00 UTC on 30 Jun.
    assert ENGLAND.end_of_day(date(2027, 7, 1)).astimezone(UTC) == datetime(
        2027, 7, 1, 22, 59, 59, 999999, tzinfo=UTC
    )
    assert ENGLAND.start_of_day(date(2027, 7, 1)).astimezone(UTC) == datetime(2027, 6, 30, 23, 0, tzinfo=UTC)
    # 1 Dec 2026 is GMT
    assert ENGLAND.start_of_day(date(2026, 12, 1)).astimezone(UTC) == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


# --- plan_stage for every shipped policy ------------------------------------------------------------------
#
# Stage 1 received Wed 23 Dec 2026 (day 0). England working days after it:
#   1 Thu 24 Dec | 2 Tue 29 | 3 Wed 30 | 4 Thu 31 | 5 Mon 4 Jan | 6 Tue 5 | 7 Wed 6 | 8 Thu 7 | 9 Fri 8
#   10 Mon 11 | 11 Tue 12 | 15 Mon 18 | 20 Mon 25 | 21 Tue 26 | 25 Mon 1 Feb | 30 Mon 8 Feb | 35 Mon 15 Feb
CHRISTMAS = date(2026, 12, 23)

# Stage 2 request received Mon 15 Mar 2027 (day 0). England working days after it:
#   1 Tue 16 | 2 Wed 17 | 5 Mon 22 | 8 Thu 25 | (Good Friday, Easter Monday) 9 Tue 30 | 10 Wed 31
#   11 Thu 1 Apr
#   15 Wed 7 Apr | 20 Wed 14 | 21 Thu 15 | 25 Wed 21 | 30 Wed 28 | 32 Fri 30 Apr | (Mon 3 May) 33 Tue 4 May
#   35 Thu 6 | 40 Thu 13 | 41 Fri 14 | 45 Thu 20 | 51 Fri 28 | (Mon 31 May) 52 Tue 1 Jun | 60 Fri 11 Jun
EASTER = date(2027, 3, 15)


@pytest.mark.parametrize(
    ("policy_id", "stage", "received", "acknowledged", "expected"),
    [
        # (acknowledge_by, respond_by, extension_limit_by)
        # Bexley S1: ack 2 -> 2; respond 15 from receipt -> 15; + 10 -> 25
        ("bexley", 1, CHRISTMAS, None, (date(2026, 12, 29), date(2027, 1, 18), date(2027, 2, 1))),
        # Westminster S1: ack 2 -> 2; respond 10 -> 10; + 10 -> 20
        ("westminster", 1, CHRISTMAS, None, (date(2026, 12, 29), date(2027, 1, 11), date(2027, 1, 25))),
        # Barking S1: ack 5 -> 5; respond 10 from acknowledgement, assumed on its due date (5) -> 15;
        # + 10 -> 25
        ("barking-dagenham", 1, CHRISTMAS, None, (date(2027, 1, 4), date(2027, 1, 18), date(2027, 2, 1))),
        # Barking S1 acknowledged Thu 24 Dec (1): respond 1 + 10 -> 11 Tue 12 Jan; + 10 -> 21 Tue 26 Jan
        (
            "barking-dagenham",
            1,
            CHRISTMAS,
            date(2026, 12, 24),
            (date(2027, 1, 4), date(2027, 1, 12), date(2027, 1, 26)),
        ),
        # seed 003 S1: "contact you within five days" is 5 calendar days: Wed 23 Dec + 5 -> Mon 28 Dec (a
        # bank holiday: calendar windows are not moved); respond 20 -> 20; + 10 -> 30
        ("council-003", 1, CHRISTMAS, None, (date(2026, 12, 28), date(2027, 1, 25), date(2027, 2, 8))),
        # seed 004 S1: ack 5 -> 5; respond 20 from the date made -> 20; + 10 -> 30
        ("council-004", 1, CHRISTMAS, None, (date(2027, 1, 4), date(2027, 1, 25), date(2027, 2, 8))),
        # Code S1: ack 5 -> 5; respond 10 from acknowledgement (5) -> 15; + 10 -> 25
        (
            "complaint-handling-code",
            1,
            CHRISTMAS,
            None,
            (date(2027, 1, 4), date(2027, 1, 18), date(2027, 2, 1)),
        ),
        # Bexley S2: ack 2 -> Wed 17 Mar; respond 15 -> Wed 7 Apr; + 20 -> 35 Thu 6 May
        ("bexley", 2, EASTER, None, (date(2027, 3, 17), date(2027, 4, 7), date(2027, 5, 6))),
        # Westminster S2: ack 2 -> 2; respond 10 -> 10 Wed 31 Mar; + 20 -> 30 Wed 28 Apr
        ("westminster", 2, EASTER, None, (date(2027, 3, 17), date(2027, 3, 31), date(2027, 4, 28))),
        # Barking review: ack 5 -> Mon 22 Mar; respond 20 from the request -> Wed 14 Apr;
        # + 20 -> 40 Thu 13 May
        ("barking-dagenham", 2, EASTER, None, (date(2027, 3, 22), date(2027, 4, 14), date(2027, 5, 13))),
        # seed 003 S2: ack 5 (Code) -> 5; respond 40 -> Thu 13 May; + 20 -> 60 Fri 11 Jun
        ("council-003", 2, EASTER, None, (date(2027, 3, 22), date(2027, 5, 13), date(2027, 6, 11))),
        # seed 004 S2: ack 5 -> 5; respond 20 from the request -> 20; + 20 -> 40
        ("council-004", 2, EASTER, None, (date(2027, 3, 22), date(2027, 4, 14), date(2027, 5, 13))),
        # Code S2: ack 5 -> 5; respond 20 from acknowledgement (5) -> 25 Wed 21 Apr; + 20 -> 45 Thu 20 May
        (
            "complaint-handling-code",
            2,
            EASTER,
            None,
            (date(2027, 3, 22), date(2027, 4, 21), date(2027, 5, 20)),
        ),
        # Code S2 acknowledged Tue 16 Mar (1): respond 1 + 20 -> 21 Thu 15 Apr; + 20 -> 41 Fri 14 May
        (
            "complaint-handling-code",
            2,
            EASTER,
            date(2027, 3, 16),
            (date(2027, 3, 22), date(2027, 4, 15), date(2027, 5, 14)),
        ),
        # May bank holidays. Westminster S1 received Fri 30 Apr 2027: (Mon 3 May) 1 Tue 4; 2 Wed 5 May;
        # 10 Mon 17 May; + 10: 9 Fri 28, (Mon 31 May) 10 Tue 1 Jun
        ("westminster", 1, date(2027, 4, 30), None, (date(2027, 5, 5), date(2027, 5, 17), date(2027, 6, 1))),
        # Easter at Stage 1. seed 003 received Mon 22 Mar 2027 (5 in the Stage 2 table): contact within 5
        # calendar days -> Sat 27 Mar; respond +20 -> 25 Wed 21 Apr; + 10 -> 35 Thu 6 May
        ("council-003", 1, date(2027, 3, 22), None, (date(2027, 3, 27), date(2027, 4, 21), date(2027, 5, 6))),
        # Weekend receipt. Code received Sat 6 Feb 2027: day 0 Mon 8 Feb; ack 5 -> Mon 15 Feb; respond 10
        # from it -> Mon 1 Mar; + 10 -> Mon 15 Mar (no holidays in between, 5 a week)
        (
            "complaint-handling-code",
            1,
            date(2027, 2, 6),
            None,
            (date(2027, 2, 15), date(2027, 3, 1), date(2027, 3, 15)),
        ),
        # Summer-time receipt. seed 004 received 23:30 UTC Fri 2 Jul 2027 = Sat 3 Jul BST: day 0 Mon 5 Jul;
        # ack 5 -> Mon 12 Jul; respond 20 -> Mon 2 Aug; + 10 -> Mon 16 Aug
        (
            "council-004",
            1,
            datetime(2027, 7, 2, 23, 30, tzinfo=UTC),
            None,
            (date(2027, 7, 12), date(2027, 8, 2), date(2027, 8, 16)),
        ),
        # Year end 2027. Bexley S1 received Thu 23 Dec 2027: 1 Fri 24; (27, 28 Dec hol) 2 Wed 29 Dec;
        # 3 Thu 30; 4 Fri 31; (Mon 3 Jan 2028 hol) 5 Tue 4; 6 Wed 5; 7 Thu 6; 8 Fri 7; 9-13 Mon 10 - Fri 14;
        # 14 Mon 17; 15 Tue 18 Jan 2028; + 10 -> Tue 1 Feb 2028
        ("bexley", 1, date(2027, 12, 23), None, (date(2027, 12, 29), date(2028, 1, 18), date(2028, 2, 1))),
    ],
)
def test_plan_stage(
    policies: dict[str, Policy],
    policy_id: str,
    stage: int,
    received: datetime | date,
    acknowledged: date | None,
    expected: tuple[date, date, date],
) -> None:
    plan = plan_stage(policies[policy_id], stage, received, acknowledged=acknowledged)
    assert (plan.acknowledge_by, plan.respond_by, plan.extension_limit_by) == expected
    assert plan.stage == stage
    assert plan.escalation_request_by is None


@pytest.mark.parametrize(
    ("policy_id", "expected"),
    [
        # responded Mon 18 Jan 2027 (15 in the Christmas table); 20 working days -> 35 Mon 15 Feb
        ("bexley", date(2027, 2, 15)),
        ("westminster", date(2027, 2, 15)),
        ("council-003", date(2027, 2, 15)),
        ("council-004", date(2027, 2, 15)),
        ("complaint-handling-code", date(2027, 2, 15)),
        # 28 calendar days: 18 Jan + 28 = 46 Jan = Mon 15 Feb (the same date by coincidence)
        ("barking-dagenham", date(2027, 2, 15)),
    ],
)
def test_plan_stage_with_response_gives_the_escalation_deadline(
    policies: dict[str, Policy], policy_id: str, expected: date
) -> None:
    plan = plan_stage(policies[policy_id], 1, CHRISTMAS, responded=date(2027, 1, 18))
    assert plan.escalation_request_by == expected


@pytest.mark.parametrize("policy_id", ENGLISH)
def test_plan_stage_day_zero_of_a_christmas_day_receipt(policies: dict[str, Policy], policy_id: str) -> None:
    # Fri 25 Dec 2026 -> the next working day is Tue 29 Dec (Sat, Sun, Boxing Day substitute Mon 28)
    assert plan_stage(policies[policy_id], 1, date(2026, 12, 25)).day_zero == date(2026, 12, 29)


@pytest.mark.parametrize("policy_id", ENGLISH)
def test_last_stage_has_no_escalation_deadline(policies: dict[str, Policy], policy_id: str) -> None:
    assert escalation_request_by(policies[policy_id], 2, date(2027, 1, 18)) is None
    assert (
        plan_stage(policies[policy_id], 2, EASTER, responded=date(2027, 4, 7)).escalation_request_by is None
    )


@pytest.mark.parametrize(
    ("policy_id", "responded", "expected"),
    [
        # 20 working days from Thu 24 Dec 2026 (1 in the Christmas table) -> 21 Tue 26 Jan 2027
        ("westminster", date(2026, 12, 24), date(2027, 1, 26)),
        ("bexley", date(2026, 12, 24), date(2027, 1, 26)),
        ("council-003", date(2026, 12, 24), date(2027, 1, 26)),
        ("council-004", date(2026, 12, 24), date(2027, 1, 26)),
        ("complaint-handling-code", date(2026, 12, 24), date(2027, 1, 26)),
        # responded 23:30 UTC Fri 2 Jul 2027 = Sat 3 Jul BST: day 0 Mon 5 Jul; 20 -> Mon 2 Aug
        ("bexley", datetime(2027, 7, 2, 23, 30, tzinfo=UTC), date(2027, 8, 2)),
        # Barking, 28 calendar days, never moved off holidays or weekends:
        ("barking-dagenham", date(2026, 11, 30), date(2026, 12, 28)),  # Mon 28 Dec: Boxing Day substitute
        ("barking-dagenham", date(2027, 2, 26), date(2027, 3, 26)),  # Good Friday
        ("barking-dagenham", date(2026, 12, 24), date(2027, 1, 21)),  # 24 + 28 = 52 Dec = Thu 21 Jan
        ("barking-dagenham", date(2027, 2, 5), date(2027, 3, 5)),  # February 2027 has 28 days
        # a BST evening response: 23:30 UTC Wed 30 Jun = Thu 1 Jul; + 28 = Thu 29 Jul
        ("barking-dagenham", datetime(2027, 6, 30, 23, 30, tzinfo=UTC), date(2027, 7, 29)),
    ],
)
def test_escalation_request_by(
    policies: dict[str, Policy], policy_id: str, responded: datetime | date, expected: date
) -> None:
    assert escalation_request_by(policies[policy_id], 1, responded) == expected


@pytest.mark.parametrize(
    ("policy_id", "stage", "respond_by", "expected"),
    [
        # Stage 1 limits are 10 working days: Thu 24 Dec 2026 -> 1 Tue 29; 2 Wed 30; 3 Thu 31; 4 Mon 4 Jan;
        # 5 Tue 5; 6 Wed 6; 7 Thu 7; 8 Fri 8; 9 Mon 11; 10 Tue 12 Jan
        ("bexley", 1, date(2026, 12, 24), date(2027, 1, 12)),
        ("westminster", 1, date(2026, 12, 24), date(2027, 1, 12)),
        ("barking-dagenham", 1, date(2026, 12, 24), date(2027, 1, 12)),
        ("council-003", 1, date(2026, 12, 24), date(2027, 1, 12)),
        ("council-004", 1, date(2026, 12, 24), date(2027, 1, 12)),
        ("complaint-handling-code", 1, date(2026, 12, 24), date(2027, 1, 12)),
        # Stage 2 limits are 20 working days: Fri 19 Mar 2027 -> 1 Mon 22; 4 Thu 25; (Easter) 5 Tue 30;
        # 6 Wed 31; 7 Thu 1; 8 Fri 2; 9-13 Mon 5 - Fri 9; 14-18 Mon 12 - Fri 16; 19 Mon 19; 20 Tue 20 Apr
        ("bexley", 2, date(2027, 3, 19), date(2027, 4, 20)),
        ("westminster", 2, date(2027, 3, 19), date(2027, 4, 20)),
        ("barking-dagenham", 2, date(2027, 3, 19), date(2027, 4, 20)),
        ("council-003", 2, date(2027, 3, 19), date(2027, 4, 20)),
        ("council-004", 2, date(2027, 3, 19), date(2027, 4, 20)),
        ("complaint-handling-code", 2, date(2027, 3, 19), date(2027, 4, 20)),
    ],
)
def test_extension_limit(
    policies: dict[str, Policy], policy_id: str, stage: int, respond_by: date, expected: date
) -> None:
    assert extension_limit(policies[policy_id], stage, respond_by) == expected


def test_no_extension_limit_when_agreement_is_never_needed(policies: dict[str, Policy]) -> None:
    data = policies["bexley"].model_dump(by_alias=True)
    data["stages"][0]["extension"]["agreement_needed_beyond_limit"] = False
    assert extension_limit(Policy.model_validate(data), 1, date(2027, 1, 18)) is None


@pytest.mark.parametrize("policy_id", ENGLISH)
@pytest.mark.parametrize(
    ("due", "paused_from", "resumed_on", "expected_due", "expected_lost"),
    [
        # paused Tue 5 Jan, resumed Mon 11 Jan 2027: lost Wed 6, Thu 7, Fri 8, Mon 11 = 4;
        # Mon 18 Jan + 4 -> Tue 19, Wed 20, Thu 21, Fri 22 Jan
        (date(2027, 1, 18), date(2027, 1, 5), date(2027, 1, 11), date(2027, 1, 22), 4),
        # over Easter: paused Thu 25 Mar, resumed Thu 1 Apr: lost Tue 30, Wed 31, Thu 1 = 3;
        # Wed 7 Apr + 3 -> Thu 8, Fri 9, Mon 12 Apr
        (date(2027, 4, 7), date(2027, 3, 25), date(2027, 4, 1), date(2027, 4, 12), 3),
        # over Christmas: paused Wed 23 Dec 2026, resumed Mon 4 Jan 2027: 5 lost (the Christmas table);
        # Mon 11 Jan + 5 -> Tue 12, Wed 13, Thu 14, Fri 15, Mon 18 Jan
        (date(2027, 1, 11), date(2026, 12, 23), date(2027, 1, 4), date(2027, 1, 18), 5),
        # paused on Sat 27 Mar (day 0 Tue 30), resumed Tue 30 Mar: nothing lost
        (date(2027, 4, 7), date(2027, 3, 27), date(2027, 3, 30), date(2027, 4, 7), 0),
        # paused and resumed the same day
        (date(2027, 4, 7), date(2027, 4, 1), date(2027, 4, 1), date(2027, 4, 7), 0),
    ],
)
def test_resume_after_pause(
    policies: dict[str, Policy],
    policy_id: str,
    due: date,
    paused_from: date,
    resumed_on: date,
    expected_due: date,
    expected_lost: int,
) -> None:
    assert resume_after_pause(policies[policy_id], due, paused_from, resumed_on) == (
        expected_due,
        expected_lost,
    )


@pytest.mark.parametrize(
    ("policy_id", "due", "expected"),
    [
        # offsets 3 and 1 before Tue 30 Mar 2027: 1 Thu 25 (over Easter); 2 Wed 24; 3 Tue 23 Mar
        ("bexley", date(2027, 3, 30), [date(2027, 3, 23), date(2027, 3, 25)]),
        ("westminster", date(2027, 3, 30), [date(2027, 3, 23), date(2027, 3, 25)]),
        ("barking-dagenham", date(2027, 3, 30), [date(2027, 3, 23), date(2027, 3, 25)]),
        ("complaint-handling-code", date(2027, 3, 30), [date(2027, 3, 23), date(2027, 3, 25)]),
        # offsets 5 and 2: 2 Wed 24; 3 Tue 23; 4 Mon 22; 5 Fri 19 Mar
        ("council-003", date(2027, 3, 30), [date(2027, 3, 19), date(2027, 3, 24)]),
        ("council-004", date(2027, 3, 30), [date(2027, 3, 19), date(2027, 3, 24)]),
        # offsets 3 and 1 before Mon 4 Jan 2027: 1 Thu 31 Dec; 2 Wed 30; 3 Tue 29 Dec 2026
        ("bexley", date(2027, 1, 4), [date(2026, 12, 29), date(2026, 12, 31)]),
        ("westminster", date(2027, 1, 4), [date(2026, 12, 29), date(2026, 12, 31)]),
        ("barking-dagenham", date(2027, 1, 4), [date(2026, 12, 29), date(2026, 12, 31)]),
        ("complaint-handling-code", date(2027, 1, 4), [date(2026, 12, 29), date(2026, 12, 31)]),
        # offsets 5 and 2: 2 Wed 30; 3 Tue 29; (Mon 28, Fri 25 hol) 4 Thu 24; 5 Wed 23 Dec 2026
        ("council-003", date(2027, 1, 4), [date(2026, 12, 23), date(2026, 12, 30)]),
        ("council-004", date(2027, 1, 4), [date(2026, 12, 23), date(2026, 12, 30)]),
    ],
)
def test_reminder_days(policies: dict[str, Policy], policy_id: str, due: date, expected: list[date]) -> None:
    assert reminder_days(policies[policy_id], due) == expected


def test_a_scottish_council_plans_around_st_andrews_day(policies: dict[str, Policy]) -> None:
    data = policies["bexley"].model_dump(by_alias=True)
    data["nation"] = "scotland"
    scottish = Policy.model_validate(data)
    # received Fri 27 Nov 2026, ack 2: Scotland (Mon 30 Nov hol) 1 Tue 1 Dec, 2 Wed 2 Dec;
    # England 1 Mon 30 Nov, 2 Tue 1 Dec
    assert plan_stage(scottish, 1, date(2026, 11, 27)).acknowledge_by == date(2026, 12, 2)
    assert plan_stage(policies["bexley"], 1, date(2026, 11, 27)).acknowledge_by == date(2026, 12, 1)
    # received Thu 31 Dec 2026, ack 2: Scotland (1 Jan, 4 Jan hol) 1 Tue 5, 2 Wed 6 Jan;
    # England 1 Mon 4, 2 Tue 5 Jan
    assert plan_stage(scottish, 1, date(2026, 12, 31)).acknowledge_by == date(2027, 1, 6)
    assert plan_stage(policies["bexley"], 1, date(2026, 12, 31)).acknowledge_by == date(2027, 1, 5)
