"""A held web submission (contact restriction, issue 29 point 11) while an officer's decision holds its triage
item (the claim): information and evidence its sender sends are accepted as on any complaint (200 and 201,
never a 503), never lost, and end up where the decision puts the item: on the complaint opened from it (also
when sent during the open), back on the item when the decision did not happen (a crashed request's claim
settled by the sweep), and kept with it when it is then dismissed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asyncpg.pool import PoolConnectionProxy
from asyncpg.transaction import Transaction

from core.services import Services
from inbound import triage
from inbound.claims import settle_lapsed_claims
from inbound.store import InboundRepository
from tests.api_helpers import bearer
from tests.test_contact_restrictions import _page, held_submission
from tests.test_residents import Stack, auth, stack

__all__ = ["stack"]
PHOTO = {"file": ("ceiling.jpg", b"\xff\xd8\xff\xe0 the ceiling during the decision", "image/jpeg")}


async def _status(stack: Stack, item_id: str) -> str:
    return str(await stack.pool.fetchval("SELECT status FROM inbound_messages WHERE id = $1::uuid", item_id))


async def _open_held_part_way(
    stack: Stack, client: httpx.AsyncClient, blocker: PoolConnectionProxy[Any], reference: str, item_id: str
) -> tuple[Transaction, asyncio.Task[httpx.Response]]:
    """An officer's open of the held item, held part-way with the item claimed: its step that marks the open
    begun waits for `blocker`'s lock (a slow Temporal start would hold it the same way) until the returned
    transaction ends. The open's request is the returned task."""
    pause = blocker.transaction()
    await pause.start()
    await blocker.execute("SELECT 1 FROM held_submissions WHERE reference = $1 FOR UPDATE", reference)
    opening = asyncio.create_task(
        client.post(
            f"/api/triage/{item_id}/open-complaint",
            json={"policy_id": "bexley", "service_area": "housing-repairs"},
            headers=bearer("olivia.officer", stack.settings),
        )
    )
    for _ in range(500):
        if await _status(stack, item_id) == "claimed":
            break
        await asyncio.sleep(0.01)
    return pause, opening


async def test_what_is_sent_during_the_open_reaches_the_complaint(stack: Stack) -> None:
    async with stack.client() as client:
        _, reference, code, item_id = await held_submission(stack, client, "Held while opened.")
        url = f"/api/public/complaints/{reference}"
        async with stack.pool.acquire() as blocker:
            # The open is held part-way, the item claimed: its step that marks the open begun waits for this
            # lock (a slow Temporal start would hold it the same way).
            pause, opening = await _open_held_part_way(stack, client, blocker, reference, item_id)
            assert await _status(stack, item_id) == "claimed"

            told = await client.post(
                f"{url}/information", json={"summary": "The ceiling fell in today."}, headers=auth(code)
            )
            assert told.status_code == 200, told.text
            assert told.json()["status"] == "received"
            sent = await client.post(f"{url}/attachments", files=PHOTO, headers=auth(code))
            assert sent.status_code == 201, sent.text
            await pause.rollback()
        opened = await opening
    assert opened.status_code == 201, opened.text
    assert opened.json()["reference"] == reference

    # On the complaint: the information as the resident's (through the workflow), the file as its evidence.
    added = await stack.pool.fetch(
        "SELECT actor_role, detail::text AS detail FROM complaint_events"
        " WHERE reference = $1 AND action = 'add_information'",
        reference,
    )
    assert [row["actor_role"] for row in added] == ["resident"]
    assert "The ceiling fell in today." in added[0]["detail"]
    files = await stack.pool.fetch(
        "SELECT filename, uploaded_by FROM attachments WHERE reference = $1", reference
    )
    assert [(row["filename"], row["uploaded_by"]) for row in files] == [("ceiling.jpg", "resident")]
    assert await stack.pool.fetchval("SELECT count(*) FROM held_sent_during_decision") == 0
    # The resident's code opens the complaint; what they sent is on it.
    async with stack.client() as client:
        seen = await client.get(f"/api/public/complaints/{reference}", headers=auth(code))
    assert seen.status_code == 200 and seen.json()["status"] == "received"


async def test_what_is_sent_during_a_decision_that_never_finished_stays_with_the_item(stack: Stack) -> None:
    """An officer's open whose process died leaves the item claimed until its lease ends; what the sender
    sends meanwhile is answered as on any complaint, and is on the item when the sweep puts it back in the
    queue, and still there once the item is dismissed."""
    officer = bearer("olivia.officer", stack.settings)
    services: Services = stack.app.state.services
    async with stack.client() as client:
        _, reference, code, item_id = await held_submission(stack, client, "Held while claimed.")
        # What a request that died after claiming the item leaves (its lease already past).
        claim = await InboundRepository(stack.pool).claim(
            await stack.pool.fetchval("SELECT $1::uuid", item_id),
            claimed_as="opened",
            decided_by="olivia.officer",
            lease=timedelta(0),
        )
        assert claim is not None
        url = f"/api/public/complaints/{reference}"
        told = await client.post(
            f"{url}/information", json={"summary": "Water is still coming in."}, headers=auth(code)
        )
        assert told.status_code == 200, told.text
        sent = await client.post(f"{url}/attachments", files=PHOTO, headers=auth(code))
        assert sent.status_code == 201, sent.text
        # The sender's page lists the file as sent, as a complaint's does.
        assert "ceiling.jpg" in await _page(stack, {"reference": reference, "access_token": code})

        assert await settle_lapsed_claims(services) >= 1
        assert await _status(stack, item_id) == "triage"
        whole = await client.get(f"/api/triage/{item_id}", headers=officer)
        assert whole.status_code == 200, whole.text
        assert "Water is still coming in." in str(whole.json())
        assert [item["filename"] for item in whole.json()["attachments"]] == ["ceiling.jpg"]

        dismissed = await client.post(
            f"/api/triage/{item_id}/dismiss", json={"reason": "Repeats a complaint."}, headers=officer
        )
        assert dismissed.status_code == 200, dismissed.text
    kept = await stack.pool.fetchrow(
        "SELECT status, text, attachments::text AS attachments FROM inbound_messages WHERE id = $1::uuid",
        item_id,
    )
    assert kept is not None
    assert kept["status"] == "dismissed" and "Water is still coming in." in kept["text"]
    assert "ceiling.jpg" in kept["attachments"]
    assert await stack.pool.fetchval("SELECT count(*) FROM held_sent_during_decision") == 0


async def _waiting_on_a_lock(stack: Stack, table: str) -> bool:
    found = await stack.pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
        f"%{table}%",
    )
    return bool(found)


async def test_information_that_finds_the_complaint_opened_meanwhile_goes_to_it(stack: Stack) -> None:
    """The sender's request read the reference as held, then the officer's open finished before it reached
    the item: it is sent to the complaint as to any (200, the complaint's answer), not refused nor lost."""
    async with stack.client() as client:
        _, reference, code, item_id = await held_submission(stack, client, "Held, opened meanwhile.")
        url = f"/api/public/complaints/{reference}"
        first = await client.post(f"{url}/information", json={"summary": "Before."}, headers=auth(code))
        assert first.status_code == 200, first.text
        async with stack.pool.acquire() as open_blocker, stack.pool.acquire() as sender_blocker:
            pause_open, opening = await _open_held_part_way(stack, client, open_blocker, reference, item_id)
            # The sender's request waits after reading the reference as held (at its daily count).
            pause_sender = sender_blocker.transaction()
            await pause_sender.start()
            await sender_blocker.execute(
                "SELECT 1 FROM token_guesses WHERE key = $1 FOR UPDATE", f"write:ref:{reference}"
            )
            telling = asyncio.create_task(
                client.post(f"{url}/information", json={"summary": "Meanwhile."}, headers=auth(code))
            )
            for _ in range(500):
                if await _waiting_on_a_lock(stack, "token_guesses"):
                    break
                await asyncio.sleep(0.01)
            assert await _waiting_on_a_lock(stack, "token_guesses")
            await pause_open.rollback()
            opened = await opening
            assert opened.status_code == 201, opened.text
            await pause_sender.rollback()
        told = await telling
    assert told.status_code == 200, told.text
    assert told.json()["reference"] == reference
    added = await stack.pool.fetch(
        "SELECT detail::text AS detail FROM complaint_events"
        " WHERE reference = $1 AND action = 'add_information'",
        reference,
    )
    assert len(added) == 1 and "Meanwhile." in added[0]["detail"]
    summary = await stack.pool.fetchval("SELECT summary FROM complaints WHERE reference = $1", reference)
    assert "Before." in summary and "Meanwhile." not in summary


class Crash(Exception):
    """The officer's process dies here: nothing after this point runs."""


async def test_what_is_sent_during_an_open_that_crashed_reaches_the_complaint_the_sweep_finishes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The open started the complaint, then its process died before joining the item to it (as in
    tests/test_triage_claims.py: a dead process releases nothing). What the sender sends until the lease
    lapses is accepted, and reaches the complaint when the sweep finishes that open."""
    officer = bearer("olivia.officer", stack.settings)
    services: Services = stack.app.state.services
    async with stack.client() as client:
        _, reference, code, item_id = await held_submission(stack, client, "Held, open crashed.")

        async def crash(*args: Any, **kwargs: Any) -> None:
            raise Crash()

        async def nothing(self: InboundRepository, *args: Any) -> bool:
            return False

        with monkeypatch.context() as dead:
            dead.setattr(triage, "finish_opened", crash)
            dead.setattr(InboundRepository, "release", nothing)
            failed = await client.post(
                f"/api/triage/{item_id}/open-complaint",
                json={"policy_id": "bexley", "service_area": "housing-repairs"},
                headers=officer,
            )
        assert failed.status_code == 500
        assert await _status(stack, item_id) == "claimed"

        url = f"/api/public/complaints/{reference}"
        told = await client.post(f"{url}/information", json={"summary": "Still leaking."}, headers=auth(code))
        assert told.status_code == 200, told.text
        sent = await client.post(f"{url}/attachments", files=PHOTO, headers=auth(code))
        assert sent.status_code == 201, sent.text

        await stack.pool.execute(
            "UPDATE inbound_messages SET claim_expires_at = now() - interval '1 second' WHERE id = $1::uuid",
            item_id,
        )
        assert await settle_lapsed_claims(services) >= 1
    assert await _status(stack, item_id) == "opened"
    added = await stack.pool.fetch(
        "SELECT detail::text AS detail FROM complaint_events"
        " WHERE reference = $1 AND action = 'add_information'",
        reference,
    )
    assert len(added) == 1 and "Still leaking." in added[0]["detail"]
    files = await stack.pool.fetch("SELECT filename FROM attachments WHERE reference = $1", reference)
    assert [row["filename"] for row in files] == ["ceiling.jpg"]
