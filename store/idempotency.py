"""Stored answers to requests made with an Idempotency-Key."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from store.complaints import Executor


class StoredAnswer(BaseModel):
    fingerprint: str
    status_code: int | None
    response: Any
    headers: dict[str, str] | None


class IdempotencyRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def claim(self, *, staff_id: str, key: str, fingerprint: str) -> bool:
        """True if this request is the first with the key (it must then `complete` or `release` it)."""
        inserted = await self._db.fetchval(
            "INSERT INTO idempotency_keys (staff_id, key, fingerprint) VALUES ($1, $2, $3)"
            " ON CONFLICT (staff_id, key) DO NOTHING RETURNING true",
            staff_id,
            key,
            fingerprint,
        )
        return bool(inserted)

    async def find(self, *, staff_id: str, key: str) -> StoredAnswer | None:
        row = await self._db.fetchrow(
            "SELECT fingerprint, status_code, response, headers FROM idempotency_keys"
            " WHERE staff_id = $1 AND key = $2",
            staff_id,
            key,
        )
        return StoredAnswer.model_validate(dict(row)) if row else None

    async def complete(
        self, *, staff_id: str, key: str, status_code: int, response: Any, headers: dict[str, str]
    ) -> None:
        await self._db.execute(
            "UPDATE idempotency_keys SET status_code = $3, response = $4, headers = $5, completed_at = now()"
            " WHERE staff_id = $1 AND key = $2",
            staff_id,
            key,
            status_code,
            response,
            headers,
        )

    async def release(self, *, staff_id: str, key: str) -> None:
        """Forget a claim whose request failed unexpectedly, so a retry can act."""
        await self._db.execute(
            "DELETE FROM idempotency_keys WHERE staff_id = $1 AND key = $2 AND status_code IS NULL",
            staff_id,
            key,
        )
