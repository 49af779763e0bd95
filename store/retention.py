"""The retention purge's SQL: find finalised complaints past retention, and destroy one's personal data.

What is destroyed (in one transaction): the complainant's and representative's details, the summary, the
outcome wanted, the staff named, the workflow state snapshot (notes, information, findings), the detail of
every event, the context, address, subject and error of every message, the stored answers to
Idempotency-Keyed requests, and every resident access token and guess counter. What is kept, so the reports
still add up: the reference, policy, channel, service area, stage, status, outcome, dates and deadlines, and
the shape of the event trail (who did what when). The audit trail holds no personal data and is kept,
with one more row saying the personal data was destroyed.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from pydantic import BaseModel

from inbound.store import delete_inbound
from store.attachments import delete_attachments
from store.audit import AuditRepository
from store.complaints import Executor

PURGE_ACTOR = "retention-purge"
PURGE_ROLE = "system"

_DUE = """
SELECT c.reference, c.workflow_id, c.policy_id, c.closed_at
FROM complaints c
JOIN unnest($1::text[], $2::timestamptz[]) AS cutoff (policy_id, before) ON cutoff.policy_id = c.policy_id
WHERE c.closed_at IS NOT NULL AND c.closed_at < cutoff.before AND c.personal_data_destroyed_at IS NULL
  AND c.reference > $3
ORDER BY c.reference
LIMIT $4
"""

_ANONYMISE_CASE = """
UPDATE complaints SET
    complainant_name = NULL, complainant = '{}'::jsonb, representative = NULL, summary = '',
    desired_outcome = '', staff_complained_about = '{}', state = NULL,
    personal_data_destroyed_at = $2, updated_at = now()
WHERE reference = $1 AND personal_data_destroyed_at IS NULL
RETURNING policy_id, closed_at
"""

_CLEAR_MESSAGES = """
UPDATE notifications SET
    recipient = NULL, to_address = NULL, subject = NULL, context = '{}'::jsonb, last_error = NULL,
    status = CASE WHEN status IN ('pending', 'sending') THEN 'skipped' ELSE status END
WHERE reference = $1
"""


class DueCase(BaseModel):
    reference: str
    workflow_id: str
    policy_id: str
    closed_at: datetime


class RetentionRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def due(
        self, *, cutoffs: dict[str, datetime], after_reference: str = "", limit: int = 100
    ) -> list[DueCase]:
        """Complaints finalised before their policy's cutoff whose personal data is still held, in
        reference order after `after_reference` (a cursor, so a case that fails is retried tomorrow)."""
        rows = await self._db.fetch(_DUE, list(cutoffs), list(cutoffs.values()), after_reference, limit)
        return [DueCase.model_validate(dict(row)) for row in rows]

    async def destroy_personal_data(self, *, reference: str, at: datetime, retention_years: int) -> bool:
        """Destroy one complaint's personal data and record it in the audit trail, in one transaction.
        False if it was already destroyed (nothing written: a retried activity is harmless)."""
        assert isinstance(self._db, asyncpg.Pool)
        async with self._db.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(_ANONYMISE_CASE, reference, at)
            if row is None:
                return False
            await connection.execute(
                "UPDATE complaint_events SET detail = '{}'::jsonb WHERE reference = $1", reference
            )
            await connection.execute(_CLEAR_MESSAGES, reference)
            # Stored answers to keyed requests repeat the whole complaint as it was read.
            await connection.execute(
                "DELETE FROM idempotency_keys WHERE response->>'reference' = $1", reference
            )
            await connection.execute("DELETE FROM intake_keys WHERE reference = $1", reference)
            # Evidence the resident or staff attached is the resident's story too.
            await delete_attachments(connection, reference)
            # The e-mails that reached it (inbound/), raw and read: the resident's words and address.
            await delete_inbound(connection, reference)
            await connection.execute("DELETE FROM resident_tokens WHERE reference = $1", reference)
            # Every kind of resident credential (access code, e-mailed link, session) and the counters kept
            # under the reference (the e-mail-keyed counters hold a hash only and expire with their window).
            await connection.execute(
                "DELETE FROM token_guesses WHERE key = ANY($1::text[])",
                [f"{prefix}{reference}" for prefix in ("ref:", "wrong:ref:", "link:ref:")],
            )
            await AuditRepository(connection).append(
                actor_id=PURGE_ACTOR,
                actor_role=PURGE_ROLE,
                action="destroy_personal_data",
                reference=reference,
                request_id=None,
                after={
                    "policy_id": row["policy_id"],
                    "closed_at": row["closed_at"],
                    "retention_years": retention_years,
                    "workflow_history_deleted": True,
                },
            )
            return True
