"""A triage decision is never left half-made. An officer's decision with an effect (open a complaint, link,
record a next-stage request) claims the item, does the effect, and finishes the claim in the transaction that
keeps the effect's last step. A process that dies in between leaves a claim whose lease lapses: the sweep
finishes it when the effect is on the complaint, else puts the item back in the queue. The crash is simulated
by failing between the steps with the claim's release disabled (a dead process releases nothing).

Two officers deciding at once, over real HTTP (uvicorn) against PostgreSQL: exactly one wins, the other gets a
409 problem+json."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from api.main import create_app
from inbound import triage
from inbound.claims import settle_lapsed_claims
from inbound.store import InboundRepository
from tests.api_helpers import assert_problem, bearer
from tests.inbound_helpers import Inbound, complaint, eventually, inbound, inbound_row, mail
from tests.live_server import live_server, loopback

__all__ = ["inbound"]

JPEG = b"\xff\xd8\xff" + b"broken fence" * 10


class Crash(Exception):
    """The process dies here: nothing after this point runs."""


def die_before_release(monkeypatch: pytest.MonkeyPatch) -> None:
    async def nothing(self: InboundRepository, *args: Any) -> bool:
        return False

    monkeypatch.setattr(InboundRepository, "release", nothing)


async def _lapse(stack: Inbound, inbound_id: Any) -> None:
    """The lease passes (five minutes, without waiting them)."""
    await stack.pool.execute(
        "UPDATE inbound_messages SET claim_expires_at = now() - interval '1 second' WHERE id = $1", inbound_id
    )


async def _post(stack: Inbound, path: str, body: dict[str, Any], user: str = "olivia.officer") -> Any:
    return await stack.client.post(path, json=body, headers=bearer(user, stack.settings))


async def _queued(stack: Inbound) -> set[str]:
    answer = await stack.client.get("/api/triage", headers=bearer("olivia.officer", stack.settings))
    return {item["id"] for item in answer.json()}


async def test_a_crash_after_the_complaint_opened_is_finished_by_the_sweep(
    inbound: Inbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = inbound
    message = mail(
        sender="Fay Tenant <fay@example.net>",
        subject="Fence (crash after open)",
        text="The fence fell on my car.",
        files=[("fence.jpg", "image/jpeg", JPEG)],
    )
    await stack.send(message)
    item_id = str((await inbound_row(stack.pool, message))["id"])

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise Crash()

    die_before_release(monkeypatch)
    monkeypatch.setattr(triage, "finish_opened", crash)  # the complaint is open; then the process dies
    await _post(
        stack, f"/api/triage/{item_id}/open-complaint", {"policy_id": "bexley", "service_area": "waste"}
    )
    monkeypatch.undo()
    row = await inbound_row(stack.pool, message)
    assert (row["status"], row["claimed_as"]) == ("claimed", "opened")
    assert item_id not in await _queued(stack)
    # While the claim lives, a second officer is told someone is on it.
    busy = await _post(stack, f"/api/triage/{item_id}/dismiss", {"reason": "Duplicate"}, user="maya.manager")
    assert_problem(busy, 409, "another officer is dealing with this message now")
    # Before the lease passes the sweep leaves it alone (the request may still be working).
    assert await settle_lapsed_claims(stack.services) == 0

    await _lapse(stack, row["id"])
    assert await settle_lapsed_claims(stack.services) >= 1
    row = await inbound_row(stack.pool, message)
    assert row["status"] == "opened" and row["reference"]
    reference = row["reference"]
    case = await stack.client.get(
        f"/api/complaints/{reference}", headers=bearer("olivia.officer", stack.settings)
    )
    assert case.json()["complainant"]["email"] == "fay@example.net"
    assert [item["filename"] for item in case.json()["attachments"]] == ["fence.jpg"]
    audited = await stack.pool.fetchrow(
        "SELECT actor_id, after FROM audit_log WHERE action = 'triage_open_complaint' AND reference = $1",
        reference,
    )
    assert audited is not None
    after = json.loads(audited["after"]) if isinstance(audited["after"], str) else audited["after"]
    assert (audited["actor_id"], after["decided_by"]) == ("inbound-sweep", "olivia.officer")
    # One complaint: an officer retrying is told it is done, not given a second complaint.
    again = await _post(
        stack, f"/api/triage/{item_id}/open-complaint", {"policy_id": "bexley", "service_area": "waste"}
    )
    assert_problem(again, 409, "already dealt with")


async def test_a_crash_before_anything_was_done_puts_the_item_back_in_the_queue(
    inbound: Inbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = inbound
    reference, _ = await complaint(stack)
    message = mail(
        sender="Gil Neighbour <gil@example.net>",
        subject=f"Re: {reference} (crash before link)",
        text="The noise goes on every night.",
    )
    await stack.send(message)
    item_id = str((await inbound_row(stack.pool, message))["id"])

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise Crash()

    die_before_release(monkeypatch)
    monkeypatch.setattr(triage, "deliver", crash)  # claimed; the process dies before the files are kept
    await _post(stack, f"/api/triage/{item_id}/link", {"reference": reference})
    monkeypatch.undo()
    assert (await inbound_row(stack.pool, message))["status"] == "claimed"

    await _lapse(stack, (await inbound_row(stack.pool, message))["id"])
    await settle_lapsed_claims(stack.services)
    row = await inbound_row(stack.pool, message)
    assert (row["status"], row["decided_by"], row["reference"], row["claim_id"]) == (
        "triage",
        None,
        None,
        None,
    )
    assert item_id in await _queued(stack)
    released = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'triage_claim_released'"
        " AND after ->> 'inbound_id' = $1",
        item_id,
    )
    assert released == 1
    # Nothing reached the complaint; the officer links it again and it does.
    linked = await _post(stack, f"/api/triage/{item_id}/link", {"reference": reference})
    assert linked.status_code == 200, linked.text

    async def information() -> Any:
        return await stack.pool.fetchval(
            "SELECT count(*) FROM complaint_events WHERE reference = $1 AND action = 'add_information'",
            reference,
        )

    assert await eventually(information, "the linked message reaches the complaint") == 1


async def test_a_crash_after_the_next_stage_was_requested_is_finished_by_the_sweep(
    inbound: Inbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    for user, action, body in [
        ("olivia.officer", "acknowledge", {}),
        ("olivia.officer", "assign", {"assignee": "ian.investigator"}),
        ("ian.investigator", "respond", {"outcome": "not_upheld", "findings": "On time."}),
    ]:
        assert (
            await _post(stack, f"/api/complaints/{reference}/{action}", body, user=user)
        ).status_code == 200
    message = mail(
        sender=address,
        to=f"complaints+{reference}@council.example",
        subject="Stage 2 please",
        text="Please escalate my complaint to stage 2.",
    )
    await stack.send(message)
    row = await inbound_row(stack.pool, message)
    assert row["flag"] == "next_stage_request"

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise Crash()

    die_before_release(monkeypatch)
    monkeypatch.setattr(triage, "finish_escalation", crash)  # requested; then the process dies
    await _post(stack, f"/api/triage/{row['id']}/record-escalation", {"reference": reference})
    monkeypatch.undo()
    assert (await inbound_row(stack.pool, message))["status"] == "claimed"
    case = await stack.client.get(
        f"/api/complaints/{reference}", headers=bearer("olivia.officer", stack.settings)
    )
    assert case.json()["stage"] == 2

    await _lapse(stack, row["id"])
    await settle_lapsed_claims(stack.services)
    row = await inbound_row(stack.pool, message)
    assert (row["status"], row["reference"]) == ("escalation_recorded", reference)
    escalations = await stack.pool.fetchval(
        "SELECT count(*) FROM complaint_events WHERE reference = $1 AND action = 'request_escalation'",
        reference,
    )
    assert escalations == 1


# ------------------------------------------------------------------------------------ concurrent decisions


@asynccontextmanager
async def served(stack: Inbound) -> AsyncIterator[httpx.AsyncClient]:
    """The same app behind uvicorn on a loopback port: real HTTP connections, each request on its own."""
    async with (
        live_server(loopback(create_app(stack.settings, stack.services))) as base,
        httpx.AsyncClient(base_url=base, timeout=60) as client,
    ):
        yield client


async def _race(
    stack: Inbound, client: httpx.AsyncClient, item_id: str, *attempts: tuple[str, str, dict[str, Any]]
) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(
                client.post(f"/api/triage/{item_id}/{path}", json=body, headers=bearer(user, stack.settings))
                for user, path, body in attempts
            )
        )
    )


def _one_winner(answers: list[httpx.Response]) -> httpx.Response:
    won = [answer for answer in answers if answer.status_code < 300]
    lost = [answer for answer in answers if answer.status_code >= 300]
    assert len(won) == 1, [(answer.status_code, answer.text) for answer in answers]
    for answer in lost:
        problem = assert_problem(answer, 409)
        assert "another officer" in problem["detail"] or "already dealt with" in problem["detail"], problem
    return won[0]


async def test_two_officers_deciding_at_once_one_wins_the_other_gets_409(inbound: Inbound) -> None:
    stack = inbound
    reference, _ = await complaint(stack)
    async with served(stack) as client:
        for round_ in range(3):  # dismiss against dismiss
            message = mail(sender=f"spam{round_}@example.net", subject=f"Offer {round_}", text="Buy now.")
            await stack.send(message)
            item_id = str((await inbound_row(stack.pool, message))["id"])
            first = ("olivia.officer", "dismiss", {"reason": "Advert"})
            second = ("maya.manager", "dismiss", {"reason": "Spam"})
            _one_winner(await _race(stack, client, item_id, first, second))
            decided = await stack.pool.fetchval(
                "SELECT count(*) FROM audit_log WHERE action = 'triage_dismiss'"
                " AND after ->> 'inbound_id' = $1",
                item_id,
            )
            assert decided == 1

        for round_ in range(2):  # link against link, and link against dismiss
            message = mail(
                sender="Carl Advocate <carl@example.net>",
                subject=f"Re: {reference} race {round_}",
                text=f"More about the heating ({round_}).",
                files=[("h.jpg", "image/jpeg", JPEG)],
            )
            await stack.send(message)
            item_id = str((await inbound_row(stack.pool, message))["id"])
            other = (
                ("maya.manager", "link", {"reference": reference})
                if round_ == 0
                else ("maya.manager", "dismiss", {"reason": "Duplicate"})
            )
            winner = _one_winner(
                await _race(
                    stack, client, item_id, ("olivia.officer", "link", {"reference": reference}), other
                )
            )
            row = await inbound_row(stack.pool, message)
            assert row["status"] == ("linked" if winner.json()["status"] == "linked" else "dismissed")

        # Open against open: one complaint.
        message = mail(sender="Ivy Tenant <ivy@example.net>", subject="Damp (race)", text="Damp everywhere.")
        await stack.send(message)
        item_id = str((await inbound_row(stack.pool, message))["id"])
        body = {"policy_id": "bexley", "service_area": "housing-repairs"}
        won = _one_winner(
            await _race(stack, client, item_id, ("olivia.officer", "open-complaint", body),
                        ("maya.manager", "open-complaint", body))
        )  # fmt: skip
        opened = await stack.pool.fetch(
            "SELECT reference FROM complaints WHERE complainant ->> 'email' = 'ivy@example.net'"
        )
        assert [row["reference"] for row in opened] == [won.json()["reference"]]

        async def files() -> Any:
            return await stack.pool.fetchval(
                "SELECT count(*) FROM attachments WHERE reference = $1", reference
            )

        linked = await stack.pool.fetchval(
            "SELECT count(*) FROM inbound_messages WHERE reference = $1 AND status = 'linked'", reference
        )
        # Each linked message's file is on the complaint once: the loser stored nothing.
        assert await files() == linked >= 1
