"""Delivering the outbox exactly once: claim in Postgres, send, record.

Every notification row (written with the workflow event that caused it, with the deterministic id
`<workflow>:<seq>:<index>:<template>`) goes through these states:

    pending --claim--> sending --sent--> sent
       ^                  |  \\--transient failure--> pending (next_attempt_at moved out; failed after the
       |                  |                                   last try, and staff flagged)
       |                  |  \\--permanent failure--> failed (staff flagged)
       |                  \\--the sender stopped before recording (crash, kill, lost connection mid-send)
       |                        --> uncertain (staff flagged; never sent again)
    skipped: nothing to e-mail (anonymous, no address, letter preferred, channel off)

The claim (status 'sending', committed) is written *before* the message is handed to the provider, and the
outcome after. A row found still 'sending' once its claim is older than `claim_timeout` belonged to a sender
that stopped between the two: the message may or may not have gone out, and sending it again could send it
twice, so it is marked 'uncertain' and staff are asked to check. That is the guarantee: **at most once
automatically, and every message is either recorded as sent, or flagged to staff**. The Message-ID (SMTP)
and the Notify reference are derived from the notification id, so staff can look the message up.

"Flag staff" = `complaints.delivery_problem` set, and an `audit_log` row (`delivery_failed` or
`delivery_uncertain`, actor `system`) naming the notification.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from core.settings import Settings
from domain.policy import Policy
from notifications.channels import (
    OutgoingMessage,
    PermanentDeliveryError,
    Sender,
    TransientDeliveryError,
)
from notifications.render import RenderError, render

log = logging.getLogger(__name__)

FINAL = frozenset({"sent", "failed", "skipped", "uncertain"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ERROR_LIMIT = 1_000

Connection = asyncpg.Connection | PoolConnectionProxy


@dataclass(frozen=True)
class DeliveryOptions:
    max_attempts: int = 8
    staff_email_domain: str = "council.example"
    templates_dir: Path | None = None
    # A claim older than this belongs to a sender that stopped (the SMTP/Notify timeouts are far shorter).
    claim_timeout: timedelta = timedelta(minutes=10)
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_cap: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryOptions:
        return cls(
            max_attempts=settings.notification_max_attempts,
            staff_email_domain=settings.staff_email_domain,
            templates_dir=settings.notification_templates_dir,
        )

    def backoff(self, attempts: int) -> timedelta:
        """Wait after the `attempts`-th failed try: base, 2 x base, 4 x base... at most the cap."""
        wait: timedelta = self.backoff_base * 2 ** max(attempts - 1, 0)
        return min(wait, self.backoff_cap)


_SELECT = """
SELECT n.id, n.reference, n.template, n.audience, n.recipient, n.context, n.status, n.attempts,
       n.claimed_at < now() - $2::interval AS claim_expired,
       COALESCE(c.policy_id, n.policy_id) AS policy_id, c.complainant, c.representative, c.anonymous
FROM notifications n LEFT JOIN complaints c ON c.reference = n.reference  -- no case: a managers' digest
WHERE n.id = $1
FOR UPDATE OF n
"""


class _Skip(Exception):
    """Nothing to e-mail for this row; the message says why (and what staff should do instead)."""


async def deliver_one(
    pool: asyncpg.Pool,
    sender: Sender,
    policies: Mapping[str, Policy],
    notification_id: str,
    *,
    max_attempts: int | None = None,
    options: DeliveryOptions | None = None,
) -> str:
    """Deliver one outbox row at most once; return its status afterwards.

    Safe to call any number of times, from any number of processes: only a 'pending' row is sent, and only
    by the caller that claimed it.
    """
    options = options or DeliveryOptions()
    if max_attempts is not None:
        options = replace(options, max_attempts=max_attempts)
    async with pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(_SELECT, notification_id, options.claim_timeout)
        if row is None:
            raise LookupError(f"no notification {notification_id!r}")
        status: str = row["status"]
        if status in FINAL:
            return status
        if status == "sending":
            if not row["claim_expired"]:
                return status  # another sender has it in hand right now
            why = "the sender stopped after claiming it (crash or restart): it may or may not have been sent"
            await _fail(connection, row, why, final_status="uncertain")
            return "uncertain"
        try:
            to_address = _address(row, sender, options)
            policy = policies.get(row["policy_id"])
            if policy is None:
                raise RenderError(f"unknown policy {row['policy_id']!r}")
            rendered = render(row["template"], row["context"], policy, options.templates_dir)
        except _Skip as skip:
            await connection.execute(
                "UPDATE notifications SET status = 'skipped', last_error = $2, channel = $3 WHERE id = $1",
                notification_id,
                str(skip),
                sender.channel,
            )
            return "skipped"
        except RenderError as error:
            await _fail(connection, row, f"cannot render: {error}", final_status="failed")
            return "failed"
        attempt: int = await connection.fetchval(
            "UPDATE notifications SET status = 'sending', claimed_at = now(), attempts = attempts + 1,"
            " channel = $2, subject = $3, to_address = $4 WHERE id = $1 RETURNING attempts",
            notification_id,
            sender.channel,
            rendered.subject,
            to_address,
        )
    # The claim is committed: from here on, a crash leaves the row 'sending' and it is never sent again.
    message = OutgoingMessage(
        notification_id=notification_id,
        to_address=to_address,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
    )
    try:
        provider_id = await sender.send(message)
    except TransientDeliveryError as error:
        return await _after_transient(pool, row, attempt, str(error), options)
    except PermanentDeliveryError as error:
        return await _after_failure(pool, row, attempt, str(error), "failed")
    except Exception as error:  # UncertainDeliveryError, or anything unexpected: it may have gone out
        log.warning("notification %s may or may not have been sent: %r", notification_id, error)
        return await _after_failure(pool, row, attempt, f"{type(error).__name__}: {error}", "uncertain")
    # 'uncertain' too: a slow send whose claim was meanwhile declared stale still knows it went out.
    async with pool.acquire() as connection, connection.transaction():
        updated = await connection.fetchval(
            # A resident's access link is a live secret: once it has gone out, the outbox keeps no copy.
            "UPDATE notifications SET status = 'sent', sent_at = now(), provider_id = $2, last_error = NULL,"
            " context = context - 'link'"
            " WHERE id = $1 AND attempts = $3 AND status IN ('sending', 'uncertain') RETURNING id",
            notification_id,
            provider_id,
            attempt,
        )
        if updated is None:
            log.error("notification %s was sent but its row had moved on; left as it is", notification_id)
            return str(
                await connection.fetchval("SELECT status FROM notifications WHERE id = $1", notification_id)
            )
    return "sent"


def _address(row: asyncpg.Record, sender: Sender, options: DeliveryOptions) -> str:
    """The e-mail address for this row, or `_Skip` with what staff should do instead."""
    if sender.channel == "none":
        raise _Skip("e-mail is turned off (NOTIFICATION_CHANNEL=none): send by post")
    recipient: str | None = row["recipient"]
    if row["audience"] != "complainant":
        staff = (recipient or "complaints-team").strip()
        return staff if "@" in staff else f"{staff}@{options.staff_email_domain}"
    if row["anonymous"]:
        raise _Skip("anonymous complaint: no contact")
    given = recipient.strip() if recipient and _EMAIL.match(recipient.strip()) else None
    representative: dict[str, Any] | None = row["representative"]
    if representative and representative.get("consent_recorded"):
        address = given or representative.get("email")
        if not address:
            raise _Skip("the representative has no e-mail address: send by post")
        return str(address)
    complainant: dict[str, Any] = row["complainant"] or {}
    preferred = complainant.get("preferred_contact") or "email"
    if preferred != "email":
        raise _Skip(f"the complainant prefers contact by {preferred}: send by post")
    address = given or complainant.get("email")
    if not address:
        raise _Skip("no e-mail address: send by post")
    return str(address)


async def _after_transient(
    pool: asyncpg.Pool, row: asyncpg.Record, attempt: int, error: str, options: DeliveryOptions
) -> str:
    if attempt >= options.max_attempts:
        return await _after_failure(pool, row, attempt, f"gave up after {attempt} tries: {error}", "failed")
    async with pool.acquire() as connection:
        updated = await connection.fetchval(
            "UPDATE notifications SET status = 'pending', claimed_at = NULL, last_error = $2,"
            " next_attempt_at = now() + $3::interval"
            " WHERE id = $1 AND attempts = $4 AND status = 'sending' RETURNING status",
            row["id"],
            error[:_ERROR_LIMIT],
            options.backoff(attempt),
            attempt,
        )
    return str(updated) if updated else await _status(pool, row["id"])


async def _after_failure(
    pool: asyncpg.Pool, row: asyncpg.Record, attempt: int, error: str, status: str
) -> str:
    async with pool.acquire() as connection, connection.transaction():
        claimed = await connection.fetchval(
            "SELECT id FROM notifications WHERE id = $1 AND attempts = $2 AND status = 'sending' FOR UPDATE",
            row["id"],
            attempt,
        )
        if claimed is None:  # someone else already settled it (e.g. declared the claim stale)
            return str(await connection.fetchval("SELECT status FROM notifications WHERE id = $1", row["id"]))
        await _fail(connection, row, error, final_status=status)
    return status


async def _fail(connection: Connection, row: asyncpg.Record, error: str, *, final_status: str) -> None:
    """Settle a row as failed or uncertain and flag the case to staff, in the caller's transaction."""
    await connection.execute(
        "UPDATE notifications SET status = $2, last_error = $3 WHERE id = $1",
        row["id"],
        final_status,
        error[:_ERROR_LIMIT],
    )
    await connection.execute(
        "UPDATE complaints SET delivery_problem = true WHERE reference = $1", row["reference"]
    )
    await connection.execute(
        "INSERT INTO audit_log (actor_id, actor_role, action, reference, after)"
        " VALUES ('system', 'system', $1, $2, $3)",
        "delivery_uncertain" if final_status == "uncertain" else "delivery_failed",
        row["reference"],
        {
            "notification_id": row["id"],
            "template": row["template"],
            "audience": row["audience"],
            "status": final_status,
            "error": error[:_ERROR_LIMIT],
        },
    )
    log.warning("notification %s %s: %s (staff flagged)", row["id"], final_status, error)


async def _status(pool: asyncpg.Pool, notification_id: str) -> str:
    return str(await pool.fetchval("SELECT status FROM notifications WHERE id = $1", notification_id))


async def delivery_problems(pool: asyncpg.Pool, reference: str) -> list[dict[str, Any]]:
    """The messages of a case that staff must look at (failed or uncertain), oldest first."""
    rows = await pool.fetch(
        "SELECT id, template, audience, to_address, status, attempts, last_error, claimed_at"
        " FROM notifications WHERE reference = $1 AND status IN ('failed', 'uncertain') ORDER BY seq, id",
        reference,
    )
    return [dict(row) for row in rows]
