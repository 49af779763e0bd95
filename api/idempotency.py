"""Idempotency-Key for POSTs: a retried request (same staff member, same key) does not act twice.

The first request claims the key, acts, and stores its answer (success or 4xx problem); a repeat gets the
stored answer with `Idempotent-Replayed: true`; a repeat while the first is still running gets 409 (with
Retry-After); the same key with a different request gets 422. An unexpected failure or an outage releases
the key so the client can retry.

Keys expire after IDEMPOTENCY_KEY_TTL_HOURS (24). A claim is never left for ever: if the answer cannot be
stored because PostgreSQL went away after the request acted, the client still gets its answer and the API
keeps trying to store it in the background; a claim left by a process that died is taken over by the next
request with the key once it is IDEMPOTENCY_CLAIM_TIMEOUT old (a minute). A refusal that time will lift
(429, 503) is not stored either: the retry after Retry-After must act, not replay it. Residents' requests
use the same store, keyed by an owner of their own (`run_once_as`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.errors import PROBLEM_JSON, ProblemError
from store.idempotency import IdempotencyRepository
from store.staff import StaffUser

MAX_KEY_LENGTH = 200
# How often, and how long, an answer that could not be stored is tried again (until the claim times out).
STORE_RETRY_SECONDS = 1.0

log = logging.getLogger(__name__)
# Background stores in flight (a task must be referenced until it ends).
_storing: set[asyncio.Task[None]] = set()

Outcome = tuple[int, BaseModel, dict[str, str]]
Answer = dict[str, Any]
# Refusals that time lifts: never stored as the key's answer.
TRANSIENT = frozenset({429, 503})


def fingerprint(request: Request, body: Any) -> str:
    canonical = json.dumps([request.method, request.url.path, body], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _response(status: int, body: Any, headers: dict[str, str], replayed: bool) -> JSONResponse:
    media = PROBLEM_JSON if status >= 400 else "application/json"
    extra = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(body, status_code=status, headers={**headers, **extra}, media_type=media)


async def run_once(
    *,
    pool: asyncpg.Pool,
    staff: StaffUser,
    key: str | None,
    request: Request,
    body: Any,
    operation: Callable[[], Awaitable[Outcome]],
) -> JSONResponse:
    return await run_once_as(
        pool=pool, owner=staff.id, key=key, request=request, body=body, operation=operation
    )


def _kept(answer: Answer) -> Answer:
    return answer


async def _as_stored(answer: Answer) -> Answer:
    return answer


async def run_once_as(
    *,
    pool: asyncpg.Pool,
    owner: str,
    key: str | None,
    request: Request,
    body: Any,
    operation: Callable[[], Awaitable[Outcome]],
    keep: Callable[[Answer], Answer] = _kept,
    replay: Callable[[Answer], Awaitable[Answer]] = _as_stored,
) -> JSONResponse:
    """Run `operation` once per (owner, key). `keep` chooses what of a successful answer is stored (a secret
    shown once is not); `replay` turns a stored successful answer back into the answer of a retry."""
    if key is None:
        status, model, headers = await operation()
        return _response(status, model.model_dump(mode="json"), headers, replayed=False)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ProblemError(422, "Invalid request", f"Idempotency-Key: 1 to {MAX_KEY_LENGTH} characters")
    settings = request.app.state.services.settings
    ttl = timedelta(hours=settings.idempotency_key_ttl_hours)
    claim_timeout = timedelta(seconds=settings.idempotency_claim_timeout)
    repository = IdempotencyRepository(pool)
    print_ = fingerprint(request, body)
    claimed_at = await repository.claim(
        staff_id=owner, key=key, fingerprint=print_, ttl=ttl, claim_timeout=claim_timeout
    )
    if claimed_at is None:
        stored = await repository.find(staff_id=owner, key=key)
        if stored is None or stored.status_code is None:  # (None: released between claim and look-up)
            if stored is not None and stored.fingerprint != print_:
                raise _different_request()
            raise ProblemError(
                409,
                "Request in progress",
                "a request with this Idempotency-Key is being processed; try again shortly",
                headers={"Retry-After": "1"},
            )
        if stored.fingerprint != print_:
            raise _different_request()
        answer = stored.response
        if stored.status_code < 400 and isinstance(answer, Mapping):
            answer = await replay(dict(answer))
        return _response(stored.status_code, answer, stored.headers or {}, replayed=True)

    def store(status: int, answer: Any, headers: dict[str, str]) -> Awaitable[None]:
        return _store(repository, owner, key, claimed_at, status, answer, headers, claim_timeout)

    try:
        status, model, headers = await operation()
    except ProblemError as problem:
        if problem.problem.status in TRANSIENT or problem.problem.status >= 500:
            # An outage or a limit is not an answer: the retry must be able to act.
            await _release(repository, owner, key, claimed_at, claim_timeout)
            raise
        # A refused request is an answer too: the retry gets the same refusal, and nothing acts.
        answer = problem.problem.model_copy(update={"instance": request.url.path}).model_dump(
            exclude_none=True
        )
        await store(problem.problem.status, answer, {})
        raise
    except BaseException:
        await _release(repository, owner, key, claimed_at, claim_timeout)
        raise
    answer = model.model_dump(mode="json")
    await store(status, keep(answer), headers)
    return _response(status, answer, headers, replayed=False)


async def _release(
    repository: IdempotencyRepository,
    staff_id: str,
    key: str,
    claimed_at: datetime,
    claim_timeout: timedelta,
) -> None:
    """Release the claim so the client's retry can act; if the database is away too, keep trying in the
    background, so the retry is not told "in progress" for longer than the outage."""
    try:
        await repository.release(staff_id=staff_id, key=key, claimed_at=claimed_at)
        return
    except Exception as error:
        log.warning("could not release Idempotency-Key %r yet: %r", key, error)

    async def keep_trying() -> None:
        for _ in range(max(int(claim_timeout.total_seconds() / STORE_RETRY_SECONDS) - 1, 1)):
            await asyncio.sleep(STORE_RETRY_SECONDS)
            try:
                await repository.release(staff_id=staff_id, key=key, claimed_at=claimed_at)
                return
            except Exception:
                continue

    _in_background(keep_trying())


def _in_background(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _storing.add(task)
    task.add_done_callback(_storing.discard)


def _different_request() -> ProblemError:
    return ProblemError(422, "Invalid request", "Idempotency-Key was already used for a different request")


async def _store(
    repository: IdempotencyRepository,
    staff_id: str,
    key: str,
    claimed_at: datetime,
    status: int,
    answer: Any,
    headers: dict[str, str],
    claim_timeout: timedelta,
) -> None:
    """Store the answer. If the database went away after the request acted, the client still gets its
    answer, and the store is retried in the background until the claim would time out."""

    async def attempt() -> None:
        await repository.complete(
            staff_id=staff_id,
            key=key,
            status_code=status,
            response=answer,
            headers=headers,
            claimed_at=claimed_at,
        )

    try:
        await attempt()
        return
    except Exception as error:
        log.warning("could not store the answer to Idempotency-Key %r yet: %r", key, error)

    async def keep_trying() -> None:
        for _ in range(max(int(claim_timeout.total_seconds() / STORE_RETRY_SECONDS) - 1, 1)):
            await asyncio.sleep(STORE_RETRY_SECONDS)
            try:
                await attempt()
                return
            except Exception:
                continue
        log.error("the answer to Idempotency-Key %r was never stored; its claim times out", key)

    _in_background(keep_trying())
