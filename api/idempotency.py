"""Idempotency-Key for POSTs: a retried request (same staff member, same key) does not act twice.

The first request claims the key, acts, and stores its answer (success or 4xx problem); a repeat gets the
stored answer with `Idempotent-Replayed: true`; a repeat while the first is still running gets 409; the same
key with a different request gets 422. An unexpected failure releases the key so the client can retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
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
    if key is None:
        status, model, headers = await operation()
        return _response(status, model.model_dump(mode="json"), headers, replayed=False)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ProblemError(422, "Invalid request", f"Idempotency-Key: 1 to {MAX_KEY_LENGTH} characters")
    repository = IdempotencyRepository(pool)
    print_ = fingerprint(request, body)
    if not await repository.claim(staff_id=staff.id, key=key, fingerprint=print_):
        stored = await repository.find(staff_id=staff.id, key=key)
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
        return _response(stored.status_code, stored.response, stored.headers or {}, replayed=True)
    try:
        status, model, headers = await operation()
    except ProblemError as problem:
        if problem.problem.status >= 500:
            # An outage is not an answer: the retry must be able to act.
            await repository.release(staff_id=staff.id, key=key)
            raise
        # A refused request is an answer too: the retry gets the same refusal, and nothing acts.
        answer = problem.problem.model_copy(update={"instance": request.url.path}).model_dump(
            exclude_none=True
        )
        await repository.complete(
            staff_id=staff.id, key=key, status_code=problem.problem.status, response=answer, headers={}
        )
        raise
    except BaseException:
        await repository.release(staff_id=staff.id, key=key)
        raise
    answer = model.model_dump(mode="json")
    await repository.complete(
        staff_id=staff.id, key=key, status_code=status, response=answer, headers=headers
    )
    return _response(status, answer, headers, replayed=False)
