"""Issue 29 (3): the equality report never shows one person's answers: periods shorter than 90 days are
refused, nothing is shown below 10 respondents in the whole period and council, and an answer given by fewer
than 5 is merged (with the next smallest, so no subtraction recovers it) into `suppressed`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.equality import question_shown, responses_shown
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
        assert report.json()["responses"] == "<10"
        assert report.json()["questions"] == {}
        assert "muslim" not in report.text
