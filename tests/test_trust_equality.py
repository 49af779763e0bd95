"""Issue 29 (3): the equality report never shows one person's answers: periods shorter than 90 days are
refused, nothing is shown below 10 respondents in the whole period and council, and an answer given by fewer
than 5 is merged (with the next smallest, so no subtraction recovers it) into `suppressed`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.equality import question_shown, responses_shown, whole_months
from tests.api_helpers import assert_problem, bearer
from tests.test_residents import Stack, auth, make, stack

__all__ = ["stack"]


def test_small_answers_are_merged_until_no_subtraction_gives_them_away() -> None:
    assert question_shown(1, {"muslim": 1}) == {}
    assert responses_shown(1) == "<10" and responses_shown(0) == 0 and responses_shown(12) == 12
    assert question_shown(20, {"christian": 12, "none": 7, "muslim": 1}) == {"christian": 12, "suppressed": 8}
    assert question_shown(20, {"christian": 10, "none": 5, "muslim": 3, "jewish": 2}) == {
        "christian": 10,
        "none": 5,
        "suppressed": 5,
    }
    assert question_shown(11, {"yes": 10, "no": 1}) == {"suppressed": 11}


async def test_one_day_or_one_respondent_shows_nothing(stack: Stack) -> None:
    today = datetime.now(UTC).date()
    manager = bearer("maya.manager", stack.settings)
    async with stack.client() as client:
        reference, token = await make(client, policy_id="scotland-model")
        given = await client.post(
            f"/api/public/complaints/{reference}/equality", json={"religion": "muslim"}, headers=auth(token)
        )
        assert given.status_code == 201, given.text
        one_day = {"from": today.isoformat(), "to": today.isoformat(), "policy": "scotland-model"}
        assert_problem(
            await client.get("/api/reports/equality", params=one_day, headers=manager), 422, "90 days"
        )
        quarter = one_day | {"from": (today - timedelta(days=89)).isoformat()}
        report = await client.get("/api/reports/equality", params=quarter, headers=manager)
        assert report.status_code == 200, report.text
        assert report.json()["responses"] in (0, "<10")  # today's month is not counted until it ends
        assert report.json()["questions"] == {}
        assert "muslim" not in report.text


def test_a_report_counts_whole_months_that_have_ended() -> None:
    today = date(2026, 12, 7)
    assert whole_months(date(2026, 9, 8), date(2026, 12, 6), today) == (date(2026, 9, 1), date(2026, 11, 30))
    assert whole_months(date(2026, 6, 15), date(2026, 9, 14), today) == (date(2026, 6, 1), date(2026, 9, 30))
    first, last = whole_months(date(2026, 12, 1), date(2027, 3, 31), today)
    assert last < first  # the month under way is not counted yet


async def test_no_two_reports_subtract_down_to_a_few_people(stack: Stack) -> None:
    """Issue 29 (3): two reports whose periods differ by a day, or read before and after someone answered,
    would give that person's answers away by subtraction. Months are counted whole and only once ended, and
    nothing is named while a council's month in the period has 1 to 9 respondents."""
    manager = bearer("maya.manager", stack.settings)
    policy = "northern-ireland-model"  # no other test gives answers for it
    today = datetime.now(UTC).date()
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    two_months_ago_end = last_month_end.replace(day=1) - timedelta(days=1)
    for _ in range(10):
        await stack.pool.execute(
            "INSERT INTO equality_monitoring (policy_id, submitted_on, source, answers)"
            " VALUES ($1, $2, 'resident', $3)",
            policy,
            two_months_ago_end,
            {"religion": "christian"},
        )
    await stack.pool.execute(
        "INSERT INTO equality_monitoring (policy_id, submitted_on, source, answers)"
        " VALUES ($1, $2, 'resident', $3)",
        policy,
        last_month_end,
        {"religion": "muslim"},
    )

    async def report(since: date, until: date) -> dict[str, Any]:
        params = {"from": since.isoformat(), "to": until.isoformat(), "policy": policy}
        answer = await client.get("/api/reports/equality", params=params, headers=manager)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async with stack.client() as client:
        without = await report(two_months_ago_end - timedelta(days=100), two_months_ago_end)
        assert without["responses"] == 10 and without["questions"]["religion"] == {"christian": 10}
        # One day more takes in last month's single respondent: nothing is named, so nothing subtracts.
        one_day_more = await report(
            two_months_ago_end - timedelta(days=100), two_months_ago_end + timedelta(1)
        )
        assert one_day_more["counted_to"] == last_month_end.isoformat()
        assert one_day_more["questions"] == {} and "muslim" not in json.dumps(one_day_more)
        assert "fewer than 10 respondents" in one_day_more["withheld"]
        # Someone answering today changes nothing until the month has ended.
        reference, token = await make(client, policy_id=policy)
        given = await client.post(
            f"/api/public/complaints/{reference}/equality", json={"religion": "jewish"}, headers=auth(token)
        )
        assert given.status_code == 201, given.text
        again = await report(two_months_ago_end - timedelta(days=100), today + timedelta(days=60))
        assert again["counted_to"] == last_month_end.isoformat() and again["responses"] == 11
