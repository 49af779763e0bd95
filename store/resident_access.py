"""Residents' access tokens and failed-guess counters (migrations/004_resident_access.sql): raw SQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from store.complaints import Executor


class TokenRecord(BaseModel):
    id: int
    reference: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


_COLUMNS = "id, reference, created_at, expires_at, revoked_at, last_used_at"

# One round trip: add a failure to the key's current window and return the new count.
_COUNT_GUESS = """
INSERT INTO token_guesses (key, window_start, count) VALUES ($1, $2, 1)
ON CONFLICT (key, window_start) DO UPDATE SET count = token_guesses.count + 1
RETURNING count
"""

_QUEUE_NOTIFICATION = """
INSERT INTO notifications (id, reference, workflow_id, seq, template, audience, recipient, context)
VALUES ($1, $2, $3, -1, $4, 'complainant', $5, $6)
ON CONFLICT (id) DO NOTHING
"""


class ResidentAccessRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    # ------------------------------------------------------------------------------------------ tokens

    async def issue(self, *, reference: str, token_hash: str, lifetime: timedelta) -> TokenRecord:
        row = await self._db.fetchrow(
            "INSERT INTO resident_tokens (reference, token_hash, expires_at)"
            f" VALUES ($1, $2, now() + $3::interval) RETURNING {_COLUMNS}",
            reference,
            token_hash,
            lifetime,
        )
        assert row is not None
        return TokenRecord.model_validate(dict(row))

    async def find(self, *, token_hash: str) -> TokenRecord | None:
        row = await self._db.fetchrow(
            f"SELECT {_COLUMNS} FROM resident_tokens WHERE token_hash = $1", token_hash
        )
        return None if row is None else TokenRecord.model_validate(dict(row))

    async def touch(self, *, token_id: int) -> None:
        await self._db.execute("UPDATE resident_tokens SET last_used_at = now() WHERE id = $1", token_id)

    async def revoke(self, *, token_id: int) -> None:
        await self._db.execute(
            "UPDATE resident_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", token_id
        )

    async def revoke_all(self, *, reference: str) -> int:
        """Revoke every token of a complaint (a leaked link); returns how many were still live."""
        status = await self._db.execute(
            "UPDATE resident_tokens SET revoked_at = now() WHERE reference = $1 AND revoked_at IS NULL",
            reference,
        )
        return int(status.split()[-1])

    async def now(self) -> datetime:
        """The database's clock: token expiry and guess windows are measured by it, not the workflow's."""
        moment: datetime = await self._db.fetchval("SELECT now()")
        return moment

    # ---------------------------------------------------------------------------------- guess counting

    async def failures(self, *, keys: list[str], window_start: datetime) -> int:
        """The highest failure count among `keys` in the window starting at `window_start`."""
        count = await self._db.fetchval(
            "SELECT COALESCE(max(count), 0) FROM token_guesses WHERE key = ANY($1) AND window_start = $2",
            keys,
            window_start,
        )
        return int(count)

    async def count_failure(self, *, keys: list[str], window_start: datetime) -> None:
        for key in keys:
            await self._db.fetchval(_COUNT_GUESS, key, window_start)

    async def forget_windows_before(self, *, before: datetime) -> None:
        await self._db.execute("DELETE FROM token_guesses WHERE window_start < $1", before)

    # ------------------------------------------------------------------------------------------ outbox

    async def queue_access_link(
        self, *, token_id: int, reference: str, workflow_id: str, recipient: str, context: dict[str, Any]
    ) -> str:
        """Put the access-link e-mail in the notification outbox (the dispatcher sends pending rows)."""
        notification_id = f"access:{reference}:{token_id}"
        await self._db.execute(
            _QUEUE_NOTIFICATION, notification_id, reference, workflow_id, "access_link", recipient, context
        )
        return notification_id
