"""Residents' credentials (access codes, one-time link codes, page sessions) and the rate-limit counters
(migrations/004_resident_access.sql, 170_resident_links_and_sessions.sql): raw SQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from store.complaints import Executor, NotificationRecord

Kind = Literal["access", "link", "session"]


class TokenRecord(BaseModel):
    id: int
    reference: str
    kind: Kind = "access"
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    used_at: datetime | None = None

    def usable_at(self, now: datetime) -> bool:
        """Live: not revoked, not expired and, for a one-time link code, not used yet."""
        return self.revoked_at is None and now < self.expires_at and self.used_at is None


_COLUMNS = "id, reference, kind, created_at, expires_at, revoked_at, last_used_at, used_at"

# One round trip: add one to the key's current window and return the new count.
_COUNT = """
INSERT INTO token_guesses (key, window_start, count) VALUES ($1, $2, 1)
ON CONFLICT (key, window_start) DO UPDATE SET count = token_guesses.count + 1
RETURNING count
"""

_QUEUE_NOTIFICATION = """
INSERT INTO notifications (id, reference, workflow_id, seq, template, audience, recipient, context)
VALUES ($1, $2, $3, -1, $4, 'complainant', $5, $6)
ON CONFLICT (id) DO NOTHING
"""
# A submission held in triage (migration 400) has no case row yet: its messages name the council's policy,
# and the held reference is in their context.
_QUEUE_HELD_NOTIFICATION = """
INSERT INTO notifications (id, reference, workflow_id, seq, template, audience, recipient, context, policy_id)
VALUES ($1, NULL, $2, -1, $3, 'complainant', $4, $5, $6)
ON CONFLICT (id) DO NOTHING
"""


class ResidentAccessRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    # ------------------------------------------------------------------------------------------ tokens

    async def issue(
        self, *, reference: str, token_hash: str, lifetime: timedelta, kind: Kind = "access"
    ) -> TokenRecord:
        row = await self._db.fetchrow(
            "INSERT INTO resident_tokens (reference, token_hash, expires_at, kind)"
            f" VALUES ($1, $2, now() + $3::interval, $4) RETURNING {_COLUMNS}",
            reference,
            token_hash,
            lifetime,
            kind,
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

    async def use_once(self, *, token_id: int) -> bool:
        """Mark a one-time code used; False if it was used (or revoked, or expired) meanwhile: of two
        requests racing with the same link, one wins."""
        used = await self._db.fetchval(
            "UPDATE resident_tokens SET used_at = now(), last_used_at = now() WHERE id = $1"
            " AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now() RETURNING true",
            token_id,
        )
        return bool(used)

    async def revoke(self, *, token_id: int) -> None:
        await self._db.execute(
            "UPDATE resident_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", token_id
        )

    async def revoke_all(self, *, reference: str) -> int:
        """Revoke every credential of a complaint (a leaked link): access codes, unused link codes and page
        sessions; returns how many were still live."""
        status = await self._db.execute(
            "UPDATE resident_tokens SET revoked_at = now() WHERE reference = $1 AND revoked_at IS NULL"
            " AND used_at IS NULL AND expires_at > now()",
            reference,
        )
        return int(status.split()[-1])

    async def now(self) -> datetime:
        """The database's clock: token expiry and guess windows are measured by it, not the workflow's."""
        moment: datetime = await self._db.fetchval("SELECT now()")
        return moment

    # ------------------------------------------------------------------------------------ rate limits

    async def count(self, *, key: str, window_start: datetime) -> int:
        """Add one to the key's count in the window starting at `window_start`; the new count."""
        count: int = await self._db.fetchval(_COUNT, key, window_start)
        return count

    async def forget_windows_before(self, *, before: datetime) -> None:
        await self._db.execute("DELETE FROM token_guesses WHERE window_start < $1", before)

    # ------------------------------------------------------------------------------------------ outbox

    async def queue_to_resident(
        self,
        *,
        notification_id: str,
        reference: str,
        workflow_id: str,
        template: str,
        recipient: str | None,
        context: dict[str, Any],
        held_policy_id: str | None = None,
    ) -> None:
        """Put a message to the complainant or their representative (`context["addressed_to"]`) in the
        outbox, once per id; `held_policy_id`: of a submission held in triage (no case row)."""
        if held_policy_id is not None:
            await self._db.execute(
                _QUEUE_HELD_NOTIFICATION,
                notification_id,
                workflow_id,
                template,
                recipient,
                context | {"reference": reference},
                held_policy_id,
            )
            return
        await self._db.execute(
            _QUEUE_NOTIFICATION, notification_id, reference, workflow_id, template, recipient, context
        )

    async def queue_access_link(
        self,
        *,
        token_id: int,
        reference: str,
        workflow_id: str,
        recipient: str,
        context: dict[str, Any],
        held_policy_id: str | None = None,
    ) -> str:
        """Put the access-link e-mail in the notification outbox (the dispatcher sends pending rows)."""
        notification_id = f"access:{reference}:{token_id}"
        await self.queue_to_resident(
            notification_id=notification_id,
            reference=reference,
            workflow_id=workflow_id,
            template="access_link",
            recipient=recipient,
            context=context,
            held_policy_id=held_policy_id,
        )
        return notification_id

    async def held_notifications(self, *, reference: str) -> list[NotificationRecord]:
        """The messages of a submission held in triage (no case row yet), oldest first."""
        rows = await self._db.fetch(
            f"SELECT {', '.join(NotificationRecord.model_fields)} FROM notifications"
            " WHERE reference IS NULL AND audience = 'complainant' AND context->>'reference' = $1"
            " ORDER BY created_at, seq, id",
            reference,
        )
        return [NotificationRecord.model_validate(dict(row)) for row in rows]

    async def move_held_notifications(self, *, reference: str, workflow_id: str) -> None:
        """The complaint opened from a held submission takes its messages (the same reference)."""
        await self._db.execute(
            "UPDATE notifications SET reference = $1, workflow_id = $2, policy_id = NULL"
            " WHERE reference IS NULL AND audience = 'complainant' AND context->>'reference' = $1",
            reference,
            workflow_id,
        )
