"""Several officers at once: Idempotency-Key, ETag / If-Match, and concurrent identical actions."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx

from core.settings import Settings
from tests.api_helpers import api, assert_problem, bearer, complaint_body

__all__ = ["api"]

Client = tuple[httpx.AsyncClient, Settings]


# One body for every create here: a retry resends exactly the same request.
FENCE = complaint_body(summary="Idempotency check: the fence was never repaired.")


async def _create(client: httpx.AsyncClient, settings: Settings, **headers: str) -> httpx.Response:
    return await client.post(
        "/api/complaints", json=FENCE, headers={**bearer("olivia.officer", settings), **headers}
    )


async def test_a_retried_create_with_the_same_key_logs_one_complaint(api: Client, pool: asyncpg.Pool) -> None:
    client, settings = api
    first = await _create(client, settings, **{"Idempotency-Key": "create-fence-1"})
    again = await _create(client, settings, **{"Idempotency-Key": "create-fence-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    count = await pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'create' AND reference = $1", first.json()["reference"]
    )
    assert count == 1


async def test_the_same_key_for_a_different_request_is_refused(api: Client) -> None:
    client, settings = api
    await _create(client, settings, **{"Idempotency-Key": "create-fence-2"})
    other = await client.post(
        "/api/complaints",
        json=complaint_body(summary="A different complaint"),
        headers={**bearer("olivia.officer", settings), "Idempotency-Key": "create-fence-2"},
    )
    assert_problem(other, 422, "different request")


async def test_keys_belong_to_one_staff_member(api: Client) -> None:
    client, settings = api
    mine = await _create(client, settings, **{"Idempotency-Key": "shared-key"})
    theirs = await client.post(
        "/api/complaints",
        json=FENCE,
        headers={**bearer("maya.manager", settings), "Idempotency-Key": "shared-key"},
    )
    assert theirs.status_code == 201
    assert theirs.json()["reference"] != mine.json()["reference"]


async def _acknowledge(
    client: httpx.AsyncClient, settings: Settings, reference: str, **headers: str
) -> httpx.Response:
    return await client.post(
        f"/api/complaints/{reference}/acknowledge",
        json={},
        headers={**bearer("olivia.officer", settings), **headers},
    )


async def _acknowledgements(pool: asyncpg.Pool, reference: str) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM complaint_events WHERE reference = $1 AND action = 'acknowledge'", reference
    )
    return count


async def test_two_concurrent_identical_actions_act_once(api: Client, pool: asyncpg.Pool) -> None:
    client, settings = api
    reference = (await _create(client, settings)).json()["reference"]
    # Two officers press "acknowledge" at the same moment, without any key or ETag.
    results = await asyncio.gather(*(_acknowledge(client, settings, reference) for _ in range(2)))
    statuses = sorted(response.status_code for response in results)
    assert statuses == [200, 409]
    refused = next(response for response in results if response.status_code == 409)
    assert_problem(refused, 409, "acknowledged")
    assert await _acknowledgements(pool, reference) == 1


async def test_concurrent_retries_with_one_key_act_once(api: Client, pool: asyncpg.Pool) -> None:
    client, settings = api
    reference = (await _create(client, settings)).json()["reference"]
    results = await asyncio.gather(
        *(_acknowledge(client, settings, reference, **{"Idempotency-Key": "ack-once"}) for _ in range(3))
    )
    # One acts; each other one gets its stored answer, or 409 while the first is still running.
    assert [response.status_code for response in results].count(200) >= 1
    assert all(response.status_code in (200, 409) for response in results)
    assert await _acknowledgements(pool, reference) == 1
    replay = await _acknowledge(client, settings, reference, **{"Idempotency-Key": "ack-once"})
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"


async def test_concurrent_actions_on_the_same_etag_one_wins(api: Client, pool: asyncpg.Pool) -> None:
    client, settings = api
    created = (await _create(client, settings)).json()
    reference, etag = created["reference"], created["etag"]
    bodies: list[tuple[str, dict[str, Any]]] = [
        ("assign", {"assignee": "ian.investigator"}),
        ("assign", {"assignee": "ines.investigator"}),
    ]
    results = await asyncio.gather(
        *(
            client.post(
                f"/api/complaints/{reference}/{action}",
                json=body,
                headers={**bearer("maya.manager", settings), "If-Match": etag},
            )
            for action, body in bodies
        )
    )
    assert sorted(response.status_code for response in results) == [200, 412]
    winner = next(response for response in results if response.status_code == 200).json()["assigned_to"]
    assigned = await pool.fetchval("SELECT assigned_to FROM complaints WHERE reference = $1", reference)
    assert assigned == winner
    assigns = await pool.fetchval(
        "SELECT count(*) FROM complaint_events WHERE reference = $1 AND action = 'assign'", reference
    )
    assert assigns == 1


async def test_a_refusal_is_replayed_for_the_same_key(api: Client) -> None:
    client, settings = api
    reference = (await _create(client, settings)).json()["reference"]
    body = {"outcome": "upheld", "findings": "x"}
    headers = {**bearer("ian.investigator", settings), "Idempotency-Key": "respond-too-early"}
    first = await client.post(f"/api/complaints/{reference}/respond", json=body, headers=headers)
    assert_problem(first, 409, "cannot respond")
    again = await client.post(f"/api/complaints/{reference}/respond", json=body, headers=headers)
    assert_problem(again, 409, "cannot respond")
    assert again.headers["idempotent-replayed"] == "true"
