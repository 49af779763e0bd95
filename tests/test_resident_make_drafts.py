"""The drafts of "Make a complaint" (store/complaint_drafts.py) are made by the resident's first answer, never
by a GET, and limited per client address (RESIDENT_DRAFTS_PER_ADDRESS): a crawler or a bot following links
stores nothing, and past the allowance a script posting answers gets a 429 page and makes no draft, while
everyone on another address carries on."""

from __future__ import annotations

import math
import random
import re

import httpx

from api.resident.tokens import hash_token
from tests.make_journey import CHECK, START, answers, make_on_pages, reference_of, send
from tests.test_residents import Stack, new_ip, stack

__all__ = ["stack"]  # the fixture, imported so pytest finds it here

LIVE = "SELECT count(*) FROM complaint_drafts WHERE expires_at > now()"


async def live_drafts(stack: Stack) -> int:
    count: int = await stack.pool.fetchval(LIVE)
    return count


async def first_answer(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> httpx.Response:
    """Start (as "Start now" does) and answer "Who is the complaint for?"."""
    started = await client.get(START, params={"policy_id": "bexley"}, headers=headers)
    assert started.status_code == 303, started.text
    return await client.post(f"{START}/who-for", data={"on_behalf": "no"}, headers=headers)


async def test_a_get_stores_nothing_and_the_first_answer_makes_the_draft(stack: Stack) -> None:
    before = await live_drafts(stack)
    async with stack.client() as client:
        for _ in range(5):  # a crawler following "Start now" again and again, and the pages it leads to
            started = await client.get(START, params={"policy_id": "bexley"})
            assert started.status_code == 303 and started.headers["location"] == f"{START}/who-for"
            assert "complaint_draft=" not in started.headers["set-cookie"]
            first = await client.get(started.headers["location"])
            assert first.status_code == 200 and "Who is the complaint for?" in first.text
        for slug in ("council", "name", "what-happened"):
            assert (await client.get(f"{START}/{slug}")).status_code == 200
        for checking in (await client.get(CHECK), await client.post(CHECK)):  # nothing answered, nor sent
            assert checking.status_code == 303 and checking.headers["location"] == f"{START}/who-for"
        assert await live_drafts(stack) == before
        # An answer refused, or a form posted from another site, stores nothing either.
        assert (await client.post(f"{START}/who-for", data={})).status_code == 422
        cross_site = {"Sec-Fetch-Site": "cross-site"}
        forged = await client.post(f"{START}/who-for", data={"on_behalf": "no"}, headers=cross_site)
        assert forged.status_code == 403
        assert await live_drafts(stack) == before

        made = await client.post(f"{START}/who-for", data={"on_behalf": "no"})
        assert made.status_code == 303 and made.headers["location"] == f"{START}/council"
        assert await live_drafts(stack) == before + 1
        secret = client.cookies["complaint_draft"]
        stored = await stack.pool.fetchval(
            "SELECT answers FROM complaint_drafts WHERE key_hash = $1", hash_token(secret)
        )
        assert stored["on_behalf"] == "no" and stored["policy_id"] == "bexley"  # the start page's council
        # The next answers go to the same draft; Back shows the answer given.
        council = await client.get(f"{START}/council")
        assert 'value="bexley" selected' in council.text
        assert (await client.post(f"{START}/council", data={"policy_id": "bexley"})).status_code == 303
        back = await client.get(f"{START}/who-for")
        assert re.search(r'value="no" checked', back.text), back.text[:2000]
        # Starting again while the draft is not sent carries on with it: no second draft.
        again = await client.get(START)
        assert again.status_code == 303 and "set-cookie" not in again.headers
        assert await live_drafts(stack) == before + 1


async def test_a_whole_journey_makes_one_draft_and_sends_one_complaint(stack: Stack) -> None:
    before = await live_drafts(stack)
    given = answers(summary="The lift has been broken for a month.")
    async with stack.client() as client:
        sent = await make_on_pages(client, given)
        assert sent.status_code == 200 and "Complaint received" in sent.text
        assert await live_drafts(stack) == before + 1
        again = await send(client)  # a double click
        assert again.status_code == 200 and reference_of(again.text) == reference_of(sent.text)
    made = "SELECT count(*) FROM complaints WHERE complainant->>'email' = $1"
    assert await stack.pool.fetchval(made, given["email"]) == 1


async def test_past_the_allowance_a_429_page_and_no_draft_another_address_unaffected(stack: Stack) -> None:
    app = stack.app_with(resident_drafts_per_address=2)
    busy = new_ip()
    for _ in range(2):
        async with stack.client(busy, app=app) as client:
            assert (await first_answer(client)).status_code == 303
    before = await live_drafts(stack)
    async with stack.client(busy, app=app) as client:
        refused = await first_answer(client)
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert 0 < wait <= 60 * 60 + 1
        # In plain words on a GOV.UK page: what happened, and when to try again.
        assert "Too many attempts" in refused.text and "govuk-button" in refused.text
        assert "Too many complaints were started from your network" in refused.text
        minutes = math.ceil(wait / 60)
        assert f"try again in {minutes} minute{'s' if minutes != 1 else ''}" in refused.text
        assert "complaint_draft" not in client.cookies
        # Reading the pages is never refused: nothing is stored by it.
        assert (await client.get(f"{START}/who-for")).status_code == 200
    assert await live_drafts(stack) == before
    async with stack.client(app=app) as elsewhere:  # someone on another address is not held up
        assert (await first_answer(elsewhere)).status_code == 303
    assert await live_drafts(stack) == before + 1


async def test_behind_a_trusted_proxy_drafts_are_counted_per_forwarded_address(stack: Stack) -> None:
    proxy = new_ip()
    app = stack.app_with(resident_drafts_per_address=1, forwarded_allow_ips=proxy)
    one, other = (f"203.0.113.{random.randrange(1, 255)}" for _ in range(2))
    other = other if other != one else "198.51.100.7"

    async def first_from(resident: str) -> int:
        async with stack.client(proxy, app=app) as client:
            return (await first_answer(client, {"X-Forwarded-For": resident})).status_code

    assert [await first_from(one), await first_from(one)] == [303, 429]
    assert await first_from(other) == 303  # another resident behind the same proxy
