"""Stored answers to requests made with an Idempotency-Key.

A key lives `ttl` (IDEMPOTENCY_KEY_TTL_HOURS, 24 hours): after that the same key is a new request. A claim
with no answer older than `claim_timeout` (IDEMPOTENCY_CLAIM_TIMEOUT, a minute) belonged to a request that
crashed or lost its database: the next request with the key takes it over and acts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
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

    async def claim(
        self,
        *,
        staff_id: str,
        key: str,
        fingerprint: str,
        ttl: timedelta = timedelta(hours=24),
        claim_timeout: timedelta = timedelta(minutes=1),
    ) -> datetime | None:
        """The claim's time if this request is the first with the key (it must then `complete` or `release`
        it), else None. An expired key, or a claim abandoned longer than `claim_timeout`, is taken over."""
        claimed: datetime | None = await self._db.fetchval(
            "INSERT INTO idempotency_keys (staff_id, key, fingerprint) VALUES ($1, $2, $3)"
            " ON CONFLICT (staff_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
            "   status_code = NULL, response = NULL, headers = NULL, created_at = now(), completed_at = NULL"
            " WHERE idempotency_keys.created_at < now() - $4::interval"
            "    OR (idempotency_keys.status_code IS NULL"
            "        AND idempotency_keys.created_at < now() - $5::interval)"
            " RETURNING created_at",
            staff_id,
            key,
            fingerprint,
            ttl,
            claim_timeout,
        )
        return claimed

    async def find(self, *, staff_id: str, key: str) -> StoredAnswer | None:
        row = await self._db.fetchrow(
            "SELECT fingerprint, status_code, response, headers FROM idempotency_keys"
            " WHERE staff_id = $1 AND key = $2",
            staff_id,
            key,
        )
        return StoredAnswer.model_validate(dict(row)) if row else None

    async def complete(
        self,
        *,
        staff_id: str,
        key: str,
        status_code: int,
        response: Any,
        headers: dict[str, str],
        claimed_at: datetime | None = None,
    ) -> bool:
        """Store the answer; with `claimed_at`, only into that claim (not one that took it over since)."""
        done = await self._db.fetchval(
            "UPDATE idempotency_keys SET status_code = $3, response = $4, headers = $5, completed_at = now()"
            " WHERE staff_id = $1 AND key = $2 AND status_code IS NULL"
            "   AND ($6::timestamptz IS NULL OR created_at = $6) RETURNING true",
            staff_id,
            key,
            status_code,
            response,
            headers,
            claimed_at,
        )
        return bool(done)

    async def release(self, *, staff_id: str, key: str, claimed_at: datetime | None = None) -> None:
        """Forget a claim whose request failed unexpectedly, so a retry can act (with `claimed_at`, only
        that claim, not one that took it over since)."""
        await self._db.execute(
            "DELETE FROM idempotency_keys WHERE staff_id = $1 AND key = $2 AND status_code IS NULL"
            " AND ($3::timestamptz IS NULL OR created_at = $3)",
            staff_id,
            key,
            claimed_at,
        )

    async def purge_expired(self, *, ttl: timedelta) -> int:
        """Delete keys older than `ttl` (they no longer answer anything); return how many."""
        deleted = await self._db.fetch(
            "DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval RETURNING 1", ttl
        )
        return len(deleted)
