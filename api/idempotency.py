"""Idempotency-Key for POSTs: a retried request (same staff member, same key) does not act twice.

The first request claims the key, acts, and stores its answer (success or 4xx problem); a repeat gets the
stored answer with `Idempotent-Replayed: true`; a repeat while the first is still running gets 409; the same
key with a different request gets 422. An unexpected failure releases the key so the client can retry, and
so does a refusal that time will lift (429, 503): the retry after Retry-After must act, not replay it.
Residents' requests use the same store, keyed by an owner of their own (`run_once_as`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.errors import PROBLEM_JSON, ProblemError
from store.idempotency import IdempotencyRepository
from store.staff import StaffUser

MAX_KEY_LENGTH = 200

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
    repository = IdempotencyRepository(pool)
    print_ = fingerprint(request, body)
    if not await repository.claim(staff_id=owner, key=key, fingerprint=print_):
        stored = await repository.find(staff_id=owner, key=key)
        if stored is None:  # released between our claim and the look-up: treat as in progress
            raise ProblemError(
                409, "Request in progress", "a request with this Idempotency-Key is being processed"
            )
        if stored.fingerprint != print_:
            raise ProblemError(
                422, "Invalid request", "Idempotency-Key was already used for a different request"
            )
        if stored.status_code is None:
            raise ProblemError(
                409, "Request in progress", "a request with this Idempotency-Key is being processed"
            )
        answer = stored.response
        if stored.status_code < 400 and isinstance(answer, Mapping):
            answer = await replay(dict(answer))
        return _response(stored.status_code, answer, stored.headers or {}, replayed=True)
    try:
        status, model, headers = await operation()
    except ProblemError as problem:
        if problem.problem.status in TRANSIENT or problem.problem.status >= 500:
            # An outage or a limit is not an answer: the retry must be able to act.
            await repository.release(staff_id=owner, key=key)
            raise
        # A refused request is an answer too: the retry gets the same refusal, and nothing acts.
        answer = problem.problem.model_copy(update={"instance": request.url.path}).model_dump(
            exclude_none=True
        )
        await repository.complete(
            staff_id=owner, key=key, status_code=problem.problem.status, response=answer, headers={}
        )
        raise
    except BaseException:
        await repository.release(staff_id=owner, key=key)
        raise
    answer = model.model_dump(mode="json")
    await repository.complete(
        staff_id=owner, key=key, status_code=status, response=keep(answer), headers=headers
    )
    return _response(status, answer, headers, replayed=False)
