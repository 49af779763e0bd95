"""Delivering the outbox exactly once where the provider can tell, at least once where it cannot.

Every notification row (written with the workflow event that caused it, with the deterministic id
`<workflow>:<seq>:<index>:<template>`) goes through these states:

    pending --claim--> sending --sent--> sent
       ^                  |  \\--transient failure--> pending (next_attempt_at moved out; failed after the
       |                  |                                   last try, and staff flagged)
       |                  |  \\--permanent failure--> failed (staff flagged)
       |                  |  \\--answer lost after the message was handed over --> uncertain
       |                  |                                   (staff flagged; never sent again)
       |                  \\--the sender stopped before recording (crash, kill, lost database mid-send):
       |                        recovered, see below --> sent (staff flagged), or the outcomes above
    skipped: nothing to e-mail (anonymous, no address, letter preferred, channel off)

The claim (status 'sending', committed) is written *before* the message is handed to the provider, and the
outcome after. A row still 'sending' once its claim is older than `claim_timeout`
(NOTIFICATION_CLAIM_TIMEOUT, two minutes) belonged to a sender that stopped between the two: the message may
or may not have gone out. It is recovered by the next dispatcher pass:

- where the provider keeps a record (GOV.UK Notify, asked by the notification id as its `reference`), that
  record decides: found, the row is settled 'sent' with the provider's id; not found, it is sent now;
- where it keeps none (SMTP), it is sent again with the same Message-ID, because a duplicate e-mail harms a
  resident less than a statutory letter never sent (a receiving system can spot the copy by its Message-ID).

Either way `recovered` says how, and staff are flagged, so they see every such case. The Message-ID (SMTP)
and the Notify reference are derived from the notification id, so staff can look the message up.

"Flag staff" = `complaints.delivery_problem` set, and an `audit_log` row (`delivery_failed`,
`delivery_uncertain` or `delivery_recovered`, actor `system`) naming the notification.
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
from domain.letters import from_case_record
from domain.policy import Policy
from notifications.channels import (
    OutgoingMessage,
    PermanentDeliveryError,
    Sender,
    TransientDeliveryError,
)
from notifications.link_codes import LinkWithdrawn, with_fresh_code
from notifications.render import RenderError, render
from store.audit import AuditRepository

log = logging.getLogger(__name__)

TEAM = "complaints-team"
RESIDENT_ACTOR = "resident"
FINAL = frozenset({"sent", "failed", "skipped", "uncertain"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ERROR_LIMIT = 1_000
# A provider's error often quotes the recipient ("550 <ada@example.org>: no such user"): logs get it masked.
_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


def _loggable(error: object) -> str:
    return _ADDRESS.sub("<address>", str(error))


Connection = asyncpg.Connection | PoolConnectionProxy


@dataclass(frozen=True)
class DeliveryOptions:
    max_attempts: int = 8
    staff_email_domain: str = "council.example"
    # Where notices for the complaints team go (new web complaints...); default complaints-team@<domain>.
    complaints_team_email: str | None = None
    templates_dir: Path | None = None
    # A claim older than this belongs to a sender that stopped (an SMTP step times out after 30 s).
    claim_timeout: timedelta = timedelta(minutes=2)
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_cap: timedelta = timedelta(hours=1)
    # The resident pages' address, for links in letters (the satisfaction survey with the closure letter).
    resident_pages: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryOptions:
        base = settings.public_base_url or f"http://{settings.api_host}:{settings.api_port}"
        return cls(
            max_attempts=settings.notification_max_attempts,
            staff_email_domain=settings.staff_email_domain,
            complaints_team_email=settings.complaints_team_email,
            templates_dir=settings.notification_templates_dir,
            claim_timeout=timedelta(seconds=settings.notification_claim_timeout),
            resident_pages=str(base).rstrip("/"),
        )

    def backoff(self, attempts: int) -> timedelta:
        """Wait after the `attempts`-th failed try: base, 2 x base, 4 x base... at most the cap."""
        wait: timedelta = self.backoff_base * 2 ** max(attempts - 1, 0)
        return min(wait, self.backoff_cap)


_SELECT = """
SELECT n.id, n.reference, n.template, n.audience, n.recipient, n.context, n.status, n.attempts,
       n.claimed_at < now() - $2::interval AS claim_expired,
       COALESCE(c.policy_id, n.policy_id) AS policy_id,
       -- A submission held in triage (migration 400) has no case row: its form's answers greet the person.
       COALESCE(c.complainant, h.complainant) AS complainant,
       COALESCE(c.representative, h.representative) AS representative, c.anonymous,
       -- Issue 29: a staff notice to someone the complaint is closed to (named in it, or who declared a
       -- conflict of interest after it was assigned to them) goes to the complaints team instead.
       (n.audience <> 'complainant' AND (n.recipient = ANY(c.staff_complained_about) OR EXISTS (
           SELECT 1 FROM staff_conflicts sc WHERE sc.reference = n.reference AND sc.staff_id = n.recipient
       ))) IS TRUE AS closed_to_recipient
FROM notifications n LEFT JOIN complaints c ON c.reference = n.reference  -- no case: a managers' digest
LEFT JOIN held_submissions h ON n.reference IS NULL AND h.reference = n.context->>'reference'
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
        if status == "sending" and not row["claim_expired"]:
            return status  # another sender has it in hand right now
        # A stale claim: its sender stopped between claiming and recording. It is claimed afresh and resolved
        # below, through the provider's record where it keeps one, else by sending it again.
        recovering = status == "sending"
        try:
            to_address = _address(row, sender, options)
            policy = policies.get(row["policy_id"])
            if policy is None:
                raise RenderError(f"unknown policy {row['policy_id']!r}")
            context = await with_fresh_code(connection, row["template"], _with_name(row))
            context["resident_pages"] = options.resident_pages
            rendered = render(row["template"], context, policy, options.templates_dir)
        except (_Skip, LinkWithdrawn) as skip:
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
    # The claim is committed: from here on, a crash leaves the row 'sending' until its claim is stale.
    message = OutgoingMessage(
        notification_id=notification_id,
        to_address=to_address,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
    )
    recovered: str | None = None
    if recovering:
        try:
            found = await _provider_record(sender, message)
        except Exception as error:
            # The provider cannot be asked now. Sending blind could send twice where a record would tell:
            # the fresh claim is left to go stale, and the next pass asks again.
            log.warning("cannot ask the provider about notification %s yet: %r", notification_id, error)
            return "sending"
        if found is not None:
            return await _settle_recovered(pool, row, attempt, found, "confirmed by the provider")
        recovered = "sent again"
    try:
        provider_id = await sender.send(message)
    except TransientDeliveryError as error:
        return await _after_transient(pool, row, attempt, str(error), options)
    except PermanentDeliveryError as error:
        return await _after_failure(pool, row, attempt, str(error), "failed")
    except Exception as error:  # UncertainDeliveryError, or anything unexpected: it may have gone out
        log.warning(
            "notification %s may or may not have been sent: %s: %s",
            notification_id,
            type(error).__name__,
            _loggable(error),
        )
        return await _after_failure(pool, row, attempt, f"{type(error).__name__}: {error}", "uncertain")
    if recovered is not None:
        return await _settle_recovered(pool, row, attempt, provider_id, recovered)
    # 'uncertain' too: a slow send whose claim was meanwhile declared stale still knows it went out.
    async with pool.acquire() as connection, connection.transaction():
        updated = await connection.fetchval(
            # Links stored by earlier releases (migration 220 strips them): the outbox keeps no copy.
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


async def _provider_record(sender: Sender, message: OutgoingMessage) -> str | None:
    """The provider's id for this message if its own record shows it was accepted; None if it has no record
    of it, or keeps no records (then the message is sent again)."""
    find_sent = getattr(sender, "find_sent", None)
    if find_sent is None:
        return None
    found: str | None = await find_sent(message)
    return found


async def _settle_recovered(
    pool: asyncpg.Pool, row: asyncpg.Record, attempt: int, provider_id: str, how: str
) -> str:
    """A stale claim resolved: the message is recorded as sent, and staff are told how (a copy may exist)."""
    async with pool.acquire() as connection, connection.transaction():
        updated = await connection.fetchval(
            "UPDATE notifications SET status = 'sent', sent_at = coalesce(sent_at, now()), provider_id = $2,"
            " last_error = NULL, recovered = $4, context = context - 'link'"
            " WHERE id = $1 AND attempts = $3 AND status = 'sending' RETURNING id",
            row["id"],
            provider_id,
            attempt,
            how,
        )
        if updated is None:
            return str(await connection.fetchval("SELECT status FROM notifications WHERE id = $1", row["id"]))
        await flag_letter(
            connection,
            row,
            "delivery_recovered",
            {"status": "sent", "recovered": how, "provider_id": provider_id},
        )
    log.warning("notification %s left claimed by a stopped sender: %s (staff flagged)", row["id"], how)
    return "sent"


def _with_name(row: asyncpg.Record) -> dict[str, Any]:
    """The letter's context plus what it takes from the case record now (the name it greets, the support
    asked for): personal data never travels in workflow payloads."""
    context: dict[str, Any] = dict(row["context"] or {})
    if row["audience"] != "complainant":
        return context
    extra = from_case_record(
        anonymous=bool(row["anonymous"]), complainant=row["complainant"], representative=row["representative"]
    )
    # A message meant for one of the two people whatever the consent on file (issue 30: the copy of the
    # complaint to the representative who made it, the link to the complainant it was made for) greets them.
    addressed_to = context.get("addressed_to")
    if addressed_to in ("complainant", "representative") and not row["anonymous"]:
        person: dict[str, Any] = row[addressed_to] or {}
        name = str(person.get("name") or "").strip()
        if name:
            extra["recipient_name"] = name
        else:
            extra.pop("recipient_name", None)
    return context | extra


def _address(row: asyncpg.Record, sender: Sender, options: DeliveryOptions) -> str:
    """The e-mail address for this row, or `_Skip` with what staff should do instead."""
    if sender.channel == "none":
        raise _Skip("e-mail is turned off (NOTIFICATION_CHANNEL=none): send by post")
    recipient: str | None = row["recipient"]
    if row["audience"] != "complainant":
        staff = (recipient or TEAM).strip()
        # A complaint made on the web was opened by the resident actor, who is no staff member: its
        # new-complaint notice (and any other staff notice naming no one) is the complaints team's; so is
        # one to someone the complaint is closed to (the team reassigns it).
        if staff in (TEAM, RESIDENT_ACTOR, "") or row["closed_to_recipient"]:
            return options.complaints_team_email or f"{TEAM}@{options.staff_email_domain}"
        return staff if "@" in staff else f"{staff}@{options.staff_email_domain}"
    return resident_address(
        anonymous=bool(row["anonymous"]),
        complainant=row["complainant"] or {},
        representative=row["representative"],
        recipient=recipient,
    )


def resident_address(
    *,
    anonymous: bool,
    complainant: dict[str, Any],
    representative: dict[str, Any] | None,
    recipient: str | None = None,
) -> str:
    """Where a letter to the complainant goes by e-mail (their representative once consent is on file), or
    `_Skip` saying why it goes by post instead. The one rule, also asked before a letter is queued
    (`why_by_post`)."""
    if anonymous:
        raise _Skip("anonymous complaint: no contact")
    given = recipient.strip() if recipient and _EMAIL.match(recipient.strip()) else None
    if representative and representative.get("consent_recorded"):
        address = given or representative.get("email")
        if not address:
            raise _Skip("the representative has no e-mail address: send by post")
        return str(address)
    preferred = complainant.get("preferred_contact") or "email"
    if preferred != "email":
        raise _Skip(f"the complainant prefers contact by {preferred}: send by post")
    address = given or complainant.get("email")
    if not address:
        raise _Skip("no e-mail address: send by post")
    return str(address)


def why_by_post(
    channel: str, *, complainant: dict[str, Any], representative: dict[str, Any] | None
) -> str | None:
    """Why a letter to the (named) complainant of a case would be left for the post by `channel`'s sender,
    or None when it would be e-mailed: the rule `deliver_one` applies, asked before queueing it."""
    if channel == "none":
        return "e-mail is turned off (NOTIFICATION_CHANNEL=none): send by post"
    try:
        resident_address(anonymous=False, complainant=complainant, representative=representative)
    except _Skip as skip:
        return str(skip)
    return None


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
    await flag_letter(
        connection,
        row,
        "delivery_uncertain" if final_status == "uncertain" else "delivery_failed",
        {"status": final_status, "error": error[:_ERROR_LIMIT]},
    )
    log.warning("notification %s %s: %s (staff flagged)", row["id"], final_status, _loggable(error))


async def flag_letter(
    connection: Connection, row: asyncpg.Record, action: str, detail: dict[str, Any]
) -> None:
    """Flag the case to staff and say which message and why in the audit trail (caller's transaction)."""
    await connection.execute(
        "UPDATE complaints SET delivery_problem = true WHERE reference = $1", row["reference"]
    )
    # Through the audit repository, which redacts: a provider's error may quote the resident's address.
    await AuditRepository(connection).append(
        actor_id="system",
        actor_role="system",
        action=action,
        reference=row["reference"],
        request_id=None,
        after={
            "notification_id": row["id"],
            "template": row["template"],
            "audience": row["audience"],
            **detail,
        },
    )


async def _status(pool: asyncpg.Pool, notification_id: str) -> str:
    return str(await pool.fetchval("SELECT status FROM notifications WHERE id = $1", notification_id))


async def delivery_problems(pool: asyncpg.Pool, reference: str) -> list[dict[str, Any]]:
    """The messages of a case that staff must look at (failed, uncertain, or recovered after a sender
    stopped: possibly sent twice), oldest first."""
    rows = await pool.fetch(
        "SELECT id, template, audience, to_address, status, attempts, last_error, claimed_at, recovered"
        " FROM notifications WHERE reference = $1"
        " AND (status IN ('failed', 'uncertain') OR recovered IS NOT NULL) ORDER BY seq, id",
        reference,
    )
    return [dict(row) for row in rows]
