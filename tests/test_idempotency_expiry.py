"""Idempotency-Keys expire, and no claim is left answering 409 for ever (issue 11)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from starlette.requests import Request

from api.idempotency import _store, fingerprint
from api.schemas import ComplaintCreate
from core.settings import Settings
from devstack.servers import restart_postgres, start_postgres, stop_postgres
from store.db import create_pool, migrate
from store.idempotency import IdempotencyRepository
from tests.api_helpers import api, assert_problem, bearer, complaint_body
from tests.conftest import new_database

__all__ = ["api"]

Client = tuple[httpx.AsyncClient, Settings]
RECEIVED = (datetime.now(UTC) - timedelta(days=1)).isoformat()  # the same body on every retry


def _body(key: str) -> dict[str, Any]:
    return complaint_body(
        summary=f"Idempotency expiry {key}: the bins were not collected.", received_at=RECEIVED
    )


def _fingerprint(key: str) -> str:
    """The fingerprint the API records for `_create(key)`."""
    request = Request({"type": "http", "method": "POST", "path": "/api/complaints", "headers": []})
    return fingerprint(request, ComplaintCreate.model_validate(_body(key)).model_dump(mode="json"))


async def _create(client: httpx.AsyncClient, settings: Settings, key: str) -> httpx.Response:
    return await client.post(
        "/api/complaints",
        json=_body(key),
        headers={**bearer("olivia.officer", settings), "Idempotency-Key": key},
    )


async def test_a_key_older_than_a_day_is_a_new_request(api: Client, pool: asyncpg.Pool) -> None:
    client, settings = api
    first = await _create(client, settings, "expiry-1")
    assert first.status_code == 201
    replay = await _create(client, settings, "expiry-1")
    assert replay.status_code == 201, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["reference"] == first.json()["reference"]
    # 25 hours later, for the key's answer and for the reference it opened alike.
    await pool.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'expiry-1'"
    )
    await pool.execute(
        "UPDATE intake_keys SET created_at = now() - interval '25 hours' WHERE key = 'expiry-1'"
    )
    later = await _create(client, settings, "expiry-1")
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers
    assert later.json()["reference"] != first.json()["reference"]
    # The worker's purge deletes what has expired, and nothing else.
    await pool.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'expiry-1'"
    )
    kept = await _create(client, settings, "expiry-kept")
    assert await IdempotencyRepository(pool).purge_expired(ttl=timedelta(hours=24)) >= 1
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'expiry-1'") == 0
    again = await _create(client, settings, "expiry-kept")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["reference"] == kept.json()["reference"]


async def test_a_claim_left_by_a_crashed_request_is_taken_over_after_a_minute(
    api: Client, pool: asyncpg.Pool
) -> None:
    client, settings = api
    # What a request that died after claiming leaves behind: a claim with no answer.
    await pool.execute(
        "INSERT INTO idempotency_keys (staff_id, key, fingerprint) VALUES ('olivia.officer', 'crash-1', $1)",
        _fingerprint("crash-1"),
    )
    busy = await _create(client, settings, "crash-1")
    problem = assert_problem(busy, 409, "being processed")
    assert problem["title"] == "Request in progress" and busy.headers["Retry-After"]
    await pool.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '61 seconds' WHERE key = 'crash-1'"
    )
    taken_over = await _create(client, settings, "crash-1")
    assert taken_over.status_code == 201, taken_over.text
    replay = await _create(client, settings, "crash-1")
    assert replay.json()["reference"] == taken_over.json()["reference"]


async def test_an_answer_the_database_could_not_take_is_stored_once_it_is_back() -> None:
    """PostgreSQL went away between the request acting and its answer being stored: the client had its
    answer, and the key answers the same to a retry once the database is back (not 409 for ever)."""
    folder = Path(tempfile.mkdtemp(prefix="complaints-pg-idem-"))
    server = start_postgres(folder, keep_data=True)
    try:
        pool = await create_pool(await new_database(str(server.get_uri()), "idem"), max_size=2)
        try:
            await migrate(pool)
            repository = IdempotencyRepository(pool)
            claimed_at = await repository.claim(staff_id="olivia.officer", key="k", fingerprint="f")
            assert claimed_at is not None
            stop_postgres(server)
            answer = {"reference": "CMP-2026-000001"}
            await _store(
                repository, "olivia.officer", "k", claimed_at, 201, answer, {}, timedelta(seconds=60)
            )
            restart_postgres(server)
            for _ in range(100):
                stored = await repository.find(staff_id="olivia.officer", key="k")
                if stored is not None and stored.status_code is not None:
                    break
                await asyncio.sleep(0.1)
            assert stored is not None and stored.status_code == 201 and stored.response == answer
        finally:
            await pool.close()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


async def test_an_action_retried_after_its_claim_was_taken_over_is_audited_once(
    api: Client, pool: asyncpg.Pool
) -> None:
    client, settings = api
    created = await _create(client, settings, "audit-once")
    reference = created.json()["reference"]
    headers = {**bearer("olivia.officer", settings), "Idempotency-Key": "audit-once-ack"}
    first = await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=headers)
    assert first.status_code == 200
    # The answer never reached the database (an outage): the claim is left unanswered, then taken over.
    await pool.execute(
        "UPDATE idempotency_keys SET status_code = NULL, response = NULL,"
        " created_at = now() - interval '61 seconds' WHERE key = 'audit-once-ack'"
    )
    again = await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=headers)
    assert again.status_code == 200, again.text  # the same update (its id comes from the key): acted once
    acknowledged = [item for item in again.json()["history"] if item["action"] == "acknowledge"]
    assert len(acknowledged) == 1
    audited = await pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE reference = $1 AND action = 'acknowledge'", reference
    )
    assert audited == 1
