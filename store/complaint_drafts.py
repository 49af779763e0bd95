"""The answers of a complaint being made on the resident pages, between one question page and the next
(migrations/320_complaint_drafts.sql): keyed by the hash of the draft cookie's secret, with an expiry that
moves with each answer. Raw SQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from store.complaints import Executor

# How long a draft waits after its last answer: long enough to find a letter or ask someone, short enough that
# a shared computer does not keep a half-made complaint for the next person.
DRAFT_LIFETIME = timedelta(hours=3)
# After sending: a double click or a refresh of the confirmation still finds the answers (and replays).
SENT_LIFETIME = timedelta(minutes=10)


class DraftRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def get(self, *, key_hash: str) -> dict[str, Any] | None:
        """The draft's answers, or None (none, or expired)."""
        answers = await self._db.fetchval(
            "SELECT answers FROM complaint_drafts WHERE key_hash = $1 AND expires_at > now()", key_hash
        )
        return None if answers is None else dict(answers)

    async def save(
        self, *, key_hash: str, answers: dict[str, Any], lifetime: timedelta = DRAFT_LIFETIME
    ) -> None:
        """Write the draft (its expiry moves on) and purge every expired one."""
        await self._db.execute("DELETE FROM complaint_drafts WHERE expires_at <= now()")
        await self._db.execute(
            "INSERT INTO complaint_drafts (key_hash, answers, expires_at)"
            " VALUES ($1, $2, now() + $3::interval) ON CONFLICT (key_hash)"
            " DO UPDATE SET answers = EXCLUDED.answers, expires_at = EXCLUDED.expires_at",
            key_hash,
            answers,
            lifetime,
        )

    async def purge_expired(self) -> int:
        """Delete every expired draft (also done by each write): the worker calls it now and then, so an
        abandoned complaint's answers go even when nobody else makes one."""
        status: str = await self._db.execute("DELETE FROM complaint_drafts WHERE expires_at <= now()")
        return int(status.split()[-1])

    async def delete(self, *, key_hash: str) -> None:
        await self._db.execute("DELETE FROM complaint_drafts WHERE key_hash = $1", key_hash)
