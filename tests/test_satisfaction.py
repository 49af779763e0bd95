"""The one-question satisfaction survey: offered with the closure letter (a link to the resident pages),
open once the complaint is finalised, one answer per complaint, kept without a reference and counted in the
SPSO's satisfaction indicator."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from domain import commands as cmd
from notifications.render import render
from store import satisfaction
from tests.factories import OFFICER
from tests.test_notifications import POLICIES, contexts
from tests.test_residents import Stack, make, stack

__all__ = ["stack"]  # the fixture, imported so pytest finds it here


def test_the_closure_letter_offers_the_survey() -> None:
    policy = POLICIES["bexley"]
    context = contexts(policy)["closure"] | {"resident_pages": "https://complaints.example.gov.uk"}
    text = render("closure", context, policy).text
    assert f"https://complaints.example.gov.uk/complaint/{context['reference']}/satisfaction" in text
    assert "optional" in text and "kept apart from your complaint" in text
    # Without the pages' address (an older queued letter), no link.
    assert "satisfaction" not in render("closure", contexts(policy)["closure"], policy).text


async def test_a_resident_answers_once_after_closure_and_only_the_count_is_kept(stack: Stack) -> None:
    app = stack.app_with()
    async with stack.client(app=app) as client:
        reference, token = await make(client)
        auth = {"Authorization": f"Bearer {token}"}
        url = f"/api/public/complaints/{reference}/satisfaction"
        early = await client.post(url, json={"rating": 5}, headers=auth)
        assert early.status_code == 409 and "once the complaint is closed" in early.json()["detail"]

        await stack.staff(reference, "withdraw", cmd.Withdraw(actor=OFFICER, reason="Sorted out."))
        for _ in range(250):
            status = await stack.pool.fetchval(
                "SELECT status FROM complaints WHERE reference = $1", reference
            )
            if status == "withdrawn":
                break
            await asyncio.sleep(0.02)
        today = datetime.now(UTC).date()
        before = await satisfaction.counts(stack.pool, policy_id="bexley", start=today, end=today)

        assert (await client.post(url, json={"rating": 0}, headers=auth)).status_code == 422
        answered = await client.post(url, json={"rating": 4}, headers=auth)
        assert answered.status_code == 201, answered.text
        again = await client.post(url, json={"rating": 1}, headers=auth)
        assert again.status_code == 409 and "answered" in again.json()["detail"]

        after = await satisfaction.counts(stack.pool, policy_id="bexley", start=today, end=today)
        assert after["answers"] == before["answers"] + 1
        assert after["by_rating"]["4"] == before["by_rating"]["4"] + 1
        assert after["satisfied"] == before["satisfied"] + 1
        # Anonymous: the answer has no reference; only that the complaint answered is kept, apart.
        columns = await stack.pool.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'satisfaction_answers'"
        )
        assert "reference" not in {row["column_name"] for row in columns}
        assert await satisfaction.answered(stack.pool, reference=reference)


async def test_the_share_satisfied_is_worked_from_the_answers(stack: Stack) -> None:
    day = date(2031, 7, 1)
    await stack.pool.execute("DELETE FROM satisfaction_answers WHERE policy_id = 'survey-test'")
    await stack.pool.executemany(
        "INSERT INTO satisfaction_answers (policy_id, answered_on, rating) VALUES ('survey-test', $1, $2)",
        [(day, 5), (day, 4), (day, 2), (date(2031, 8, 1), 1)],
    )
    counts = await satisfaction.counts(stack.pool, policy_id="survey-test", start=day, end=day)
    # Three answers that day: 5 and 4 satisfied, 2 not; the 1 of August is outside the period.
    assert counts == {
        "answers": 3,
        "by_rating": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
        "satisfied": 2,
        "satisfied_percent": 66.7,
    }
