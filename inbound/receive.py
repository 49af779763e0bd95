"""Receiving one message, from the SMTP listener or the IMAP poller alike: stored raw once (keyed by its
Message-ID), then routed.

    stored ──past a limit──────────────────────────> triage (over_limit: kept unprocessed)
       ├──automatic reply (by its headers)─────────> dropped
       ├──an out-of-office subject, no such header─> triage, flagged looks_automatic
       ├──bounce───────────────────────────────────> bounce_recorded (the letter failed, the case flagged)
       ├──no reference─────────────────────────────> triage
       ├──a reference, but: unknown, another sender,
       │  a request for the next stage, restricted──> triage, flagged
       └──a reference from the complainant (or a representative with consent on file)
              ──> its files stored as evidence, then the `new_information` signal ──> routed

A message is stored before the sender is answered (SMTP) or the mailbox is marked (IMAP), and routed after:
an outage while routing leaves it `received` (or `routing`, evidence stored and the signal to send), and the
sweep takes it again. Logs name the message by its id only: never a sender, subject or text.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from temporalio.service import RPCError, RPCStatusCode

from core.services import Services
from domain.models import ResidentChannel
from inbound import bounces
from inbound.delivery import RESIDENT, deliver, send_signal
from inbound.parse import ParsedMail, headers_only, parse
from inbound.store import InboundRepository
from store import contact_restrictions
from store.audit import keyed_hash
from store.complaints import ComplaintRecord, ComplaintRepository, NotFound

log = logging.getLogger(__name__)
# A message the receiver stored but did not finish is taken again by the sweep after this long.
SWEEP_AFTER = timedelta(minutes=2)
# A message routing still fails for after a day (not an outage: something in it) waits in triage, flagged.
GIVE_UP_AFTER = timedelta(days=1)


def sender_key(sender: str | None, services: Services) -> str:
    """The sender as a keyed hash: counted per hour without keeping the address in clear for the count."""
    return keyed_hash((sender or "").lower(), services.settings.audit_hmac_key)


async def receive(
    services: Services, raw: bytes, *, recipients: list[str], source: str, arrived_at: datetime | None = None
) -> uuid.UUID | None:
    """Store the message once and route it; its id, or None for a Message-ID already stored (a redelivery or
    a re-poll). Raises only if it could not be stored (the sender must then try again)."""
    headers = headers_only(raw, recipients)
    inbound_id = await InboundRepository(services.pool).store_raw(
        message_id=headers.message_id,
        source=source,
        received_at=arrived_at or datetime.now(UTC),
        recipients=recipients,
        raw=raw,
        sender_key=sender_key(headers.sender, services),
    )
    if inbound_id is None:
        log.info("inbound message already stored: nothing added")
        return None
    try:
        await route(services, inbound_id)
    except Exception as error:  # an outage: the message is kept, and the sweep routes it later
        log.warning(
            "inbound message %s stored, not routed yet (%s): the sweep retries", inbound_id, _kind(error)
        )
    return inbound_id


def _workflow_gone(error: BaseException) -> bool:
    """Whether Temporal says the complaint's workflow is no longer running (ended, or never existed)."""
    return isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND


def _kind(error: Exception) -> str:
    """What failed, by type only: an error's text may quote the message (a database error its values)."""
    return type(error).__name__


def _attachment_list(parsed: ParsedMail) -> list[dict[str, object]]:
    return [
        {"filename": item.filename, "content_type": item.content_type, "size": len(item.content)}
        for item in parsed.files
    ]


async def route(services: Services, inbound_id: uuid.UUID) -> str:
    """Decide what becomes of a stored message; returns its status."""
    repository = InboundRepository(services.pool)
    stored = await repository.get(inbound_id)
    found = await repository.raw(inbound_id)
    if stored is None or found is None:
        return "gone"
    if stored.status == "routing":  # evidence stored before an outage: only the signal is left
        assert stored.reference is not None
        await send_signal(services, stored)
        # One an officer linked from triage stays `linked`; one that routed itself becomes `routed`.
        final = "linked" if stored.decided_by else "routed"
        await repository.settle(inbound_id, status=final, reference=stored.reference)
        return final
    raw, recipients, key = found
    settings = services.settings
    headers = headers_only(raw, recipients)
    # An automatic reply is dropped whatever its size or rate (autoresponder loops are what rates catch).
    if len(raw) > settings.inbound_max_message_bytes and headers.kind != "auto_reply":
        return await _over_limit(repository, inbound_id, headers, "size")
    # Parsing a message of up to INBOUND_MAX_MESSAGE_BYTES (MIME, HTML, quoting) takes a while: in a thread,
    # so the listener and the poller keep answering meanwhile.
    parsed = (
        await asyncio.to_thread(parse, raw, recipients)
        if len(raw) <= settings.inbound_max_message_bytes
        else headers
    )
    if parsed.kind == "message":
        if len(parsed.files) > settings.inbound_max_attachments:
            return await _over_limit(repository, inbound_id, parsed, "attachments")
        arrived = stored.received_at
        sent_in_hour = await repository.from_sender(
            sender_key=key, since=arrived - timedelta(hours=1), until=arrived
        )
        if sent_in_hour > settings.inbound_messages_per_sender_per_hour:
            return await _over_limit(repository, inbound_id, parsed, "sender_rate")
    candidate = parsed.references[0] if parsed.references else None
    await repository.describe(
        inbound_id,
        sender=parsed.sender,
        subject=parsed.subject,
        text=parsed.text,
        attachments=_attachment_list(parsed),
        kind=parsed.kind,
        candidate=candidate,
    )
    if parsed.kind == "auto_reply":
        await repository.settle(inbound_id, status="dropped")
        log.info("inbound message %s: an automatic reply, dropped", inbound_id)
        return "dropped"
    if parsed.kind == "bounce":
        reference = await bounces.record_bounce(services.pool, parsed)
        await repository.settle(
            inbound_id, status="bounce_recorded" if reference else "dropped", reference=reference
        )
        log.info(
            "inbound message %s: a bounce, %s", inbound_id, "letter flagged" if reference else "no letter"
        )
        return "bounce_recorded" if reference else "dropped"
    flag, record = await _why_not_routed(services, parsed, candidate, stored.received_at)
    if parsed.looks_automatic and flag is None:  # a person judges: never dropped on its subject alone
        flag = "looks_automatic"
    if record is None or flag is not None:
        await repository.settle(inbound_id, status="triage", flag=flag)
        log.info("inbound message %s: to triage (%s)", inbound_id, flag or "no reference")
        return "triage"
    await deliver(
        services,
        inbound_id,
        record,
        parsed.files,
        actor_id=RESIDENT,
        actor_role=RESIDENT,
        request_id=f"inbound:{inbound_id}",
    )
    log.info("inbound message %s: reached its complaint", inbound_id)
    return "routed"


async def _over_limit(
    repository: InboundRepository, inbound_id: uuid.UUID, parsed: ParsedMail, limit: str
) -> str:
    """Past a limit: kept as it came, unprocessed (no text taken, no file stored), for an officer."""
    await repository.describe(
        inbound_id,
        sender=parsed.sender,
        subject=parsed.subject,
        text="",
        attachments=[],
        kind="message",
        candidate=parsed.references[0] if parsed.references else None,
    )
    await repository.settle(inbound_id, status="triage", flag="over_limit")
    log.warning("inbound message %s: past the %s limit, kept unprocessed in triage", inbound_id, limit)
    return "triage"


def sender_matches(record: ComplaintRecord, sender: str | None) -> bool:
    """From the complainant's address, or a representative's whose consent is on file."""
    if not sender or record.anonymous:
        return False
    addresses = [record.complainant.get("email")]
    representative = record.representative or {}
    if representative.get("consent_recorded"):
        addresses.append(representative.get("email"))
    return any(address and str(address).strip().lower() == sender for address in addresses)


async def _why_not_routed(
    services: Services, parsed: ParsedMail, candidate: str | None, arrived_at: datetime
) -> tuple[str | None, ComplaintRecord | None]:
    if candidate is None:
        return None, None
    try:
        record = await ComplaintRepository(services.pool).get(reference=candidate)
    except NotFound:
        return "unknown_reference", None
    # A From the relay found forged is not the complainant's, whatever address it shows.
    if parsed.from_forged or not sender_matches(record, parsed.sender):
        return "sender_mismatch", record
    if parsed.asks_for_next_stage:
        return "next_stage_request", record
    policy = services.policies.get(record.policy_id)
    zone = ZoneInfo(policy.timezone if policy is not None else "Europe/London")
    restricted = await contact_restrictions.in_force(
        services.pool,
        policy_id=record.policy_id,
        reference=record.reference,
        # The sender's own address: a representative whose messages are restricted (on a complaint of their
        # own) is restricted when writing for someone else too.
        email=parsed.sender,
        channel=ResidentChannel.MESSAGES,
        today=arrived_at.astimezone(zone).date(),
    )
    if restricted is not None:
        return "contact_restricted", record
    return None, record


async def sweep(services: Services, older_than: timedelta = SWEEP_AFTER) -> int:
    """Route again what an outage or a crash left unfinished; returns how many were taken."""
    repository = InboundRepository(services.pool)
    unfinished = await repository.unfinished(older_than=older_than)
    for inbound_id, status, received_at in unfinished:
        try:
            await route(services, inbound_id)
        except Exception as error:
            log.warning(
                "inbound message %s still not routed (%s): next sweep retries", inbound_id, _kind(error)
            )
            # One that no retry could read for a day is put before an officer as it came: never lost.
            if status == "received" and received_at < datetime.now(UTC) - GIVE_UP_AFTER:
                await repository.settle(inbound_id, status="triage", flag="unreadable")
            # One whose complaint's workflow has ended (a reply long after closure): no retry can send its
            # signal, so an officer decides (its files are on the complaint already).
            elif status == "routing" and _workflow_gone(error):
                await repository.settle(inbound_id, status="triage", flag="not_delivered")
    return len(unfinished)
