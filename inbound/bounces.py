"""A delivery status notification marks the letter it answers as undelivered and flags the complaint, the way
every other delivery problem is flagged (notifications.delivery: `delivery_problem` on the case and an audit
row naming the message)."""

from __future__ import annotations

import asyncpg

from inbound.parse import ParsedMail
from notifications.delivery import flag_letter

# The letter's Message-ID is `<sha256(notification id)[:40]@domain>` (notifications.channels.message_id):
# PostgreSQL computes the same digest to find the notification from a DSN that kept only the Message-ID.
_FIND = """
SELECT id, reference, template, audience FROM notifications
WHERE reference IS NOT NULL AND (id = ANY($1::text[])
   OR left(encode(sha256(convert_to(id, 'UTF8')), 'hex'), 40) = ANY($2::text[]))
ORDER BY created_at LIMIT 1
"""


def _digests(message_ids: list[str]) -> list[str]:
    return [value.strip().strip("<>").partition("@")[0].lower() for value in message_ids]


async def record_bounce(pool: asyncpg.Pool, parsed: ParsedMail) -> str | None:
    """Mark the bounced letter failed (`bounced_at`) and flag its complaint; the complaint's reference, or
    None when the DSN answers no letter of the service."""
    async with pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(
            _FIND, parsed.bounced_notification_ids, _digests(parsed.bounced_message_ids)
        )
        if row is None:
            return None
        status = parsed.bounce_status or "unknown"
        await connection.execute(
            "UPDATE notifications SET status = 'failed', bounced_at = coalesce(bounced_at, now()),"
            " last_error = $2 WHERE id = $1",
            row["id"],
            f"bounced: the recipient's mail server returned the letter (status {status})",
        )
        await flag_letter(connection, row, "delivery_bounced", {"status": "failed", "kind": "bounced"})
        return str(row["reference"])
