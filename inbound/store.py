"""The inbound messages and the service-request register in PostgreSQL (migration 260), in raw SQL."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from store.complaints import Executor

FINAL_WITHOUT_CASE = ("dropped", "bounce_recorded", "service_request", "dismissed")


def message_key(message_id: str) -> bytes:
    """The unique key of a Message-ID (migration 261): its SHA-256, whatever its length."""
    return hashlib.sha256(message_id.encode("utf-8")).digest()


class InboundMessage(BaseModel):
    """One stored message, without its raw bytes."""

    id: uuid.UUID
    message_id: str
    source: str
    received_at: datetime
    size: int
    sender: str | None
    subject: str | None
    text: str | None
    attachments: list[dict[str, Any]]
    kind: str
    status: str
    flag: str | None
    reference: str | None
    candidate: str | None
    decided_by: str | None
    decided_at: datetime | None
    claim_expires_at: datetime | None = None


_COLUMNS = ", ".join(InboundMessage.model_fields)


# The owner of the intake keys of complaints opened from triage items (api/intake.py's `intake_keys`).
OPEN_KEY_OWNER = "triage"


def open_key(inbound_id: uuid.UUID) -> str:
    """The intake key (owner `OPEN_KEY_OWNER`) of the complaint opened from a triage item: one complaint per
    message, whatever is retried. It is kept with the complaint's reference before the complaint's workflow
    starts (api/intake.py), so it is the first trace an open decision leaves."""
    return f"inbound:{inbound_id}"


# An item whose open decision began (its intake key holds a reference) can only be finished as opened: a
# dismissal, a service request, a link or a next-stage request would leave that complaint without its e-mail.
# A held web submission (migration 400) keeps its key from the start, for the reference its sender was given:
# for it, an open began once marked so (`open_begun_at`, migration 410, set before the workflow is started: a
# request that got no answer may have started it, and its case row may come later) or its complaint exists.
_HELD_NOT_BEGUN = (
    "EXISTS (SELECT 1 FROM held_submissions h WHERE h.inbound_id = {id} AND h.open_begun_at IS NULL)"
    " AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.reference = k.reference)"
)
_NO_OPEN_BEGUN = (
    "NOT EXISTS (SELECT 1 FROM intake_keys k WHERE k.owner = 'triage'"
    " AND k.key = 'inbound:' || inbound_messages.id::text"
    f" AND NOT ({_HELD_NOT_BEGUN.format(id='inbound_messages.id')}))"
)


class OpenBegun(BaseModel):
    """The complaint an earlier open decision on the item took the reference of, and whether it exists."""

    reference: str
    opened: bool


class LapsedClaim(BaseModel):
    id: uuid.UUID
    claim_id: uuid.UUID
    claimed_as: str
    claim_reference: str | None
    decided_by: str
    received_at: datetime


def _message(row: Any) -> InboundMessage:
    values = dict(row)
    if isinstance(values.get("attachments"), str):
        values["attachments"] = json.loads(values["attachments"])
    return InboundMessage.model_validate(values)


class InboundRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def store_raw(
        self,
        *,
        message_id: str,
        source: str,
        received_at: datetime,
        recipients: list[str],
        raw: bytes,
        sender_key: str,
    ) -> uuid.UUID | None:
        """Keep the message once: its id, or None when this Message-ID was stored before."""
        found = await self._db.fetchval(
            "INSERT INTO inbound_messages"
            " (message_id, message_key, source, received_at, raw, size, sender_key, recipients)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_key) DO NOTHING RETURNING id",
            message_id,
            message_key(message_id),
            source,
            received_at,
            raw,
            len(raw),
            sender_key,
            recipients,
        )
        return None if found is None else uuid.UUID(str(found))

    async def describe(
        self,
        inbound_id: uuid.UUID,
        *,
        sender: str | None,
        subject: str,
        text: str,
        attachments: list[dict[str, Any]],
        kind: str,
        candidate: str | None,
    ) -> None:
        await self._db.execute(
            "UPDATE inbound_messages SET sender = $2, subject = $3, text = $4, attachments = $5::jsonb,"
            " kind = $6, candidate = $7 WHERE id = $1",
            inbound_id,
            sender,
            subject,
            text,
            json.dumps(attachments),
            kind,
            candidate,
        )

    async def settle(
        self, inbound_id: uuid.UUID, *, status: str, flag: str | None = None, reference: str | None = None
    ) -> None:
        await self._db.execute(
            "UPDATE inbound_messages SET status = $2, flag = $3, reference = coalesce($4, reference),"
            " processed_at = now() WHERE id = $1",
            inbound_id,
            status,
            flag,
            reference,
        )

    async def decide(
        self,
        inbound_id: uuid.UUID,
        *,
        status: str,
        decided_by: str,
        reference: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """A decision done in one step (dismissed, a service request): False if the item no longer waits
        (someone else decided or claimed it) or an open decision on it began (`open_begun`)."""
        result = await self._db.execute(
            "UPDATE inbound_messages SET status = $2, decided_by = $3, decided_at = now(),"
            " reference = coalesce($4, reference), decision_reason = $5"
            f" WHERE id = $1 AND status = 'triage' AND {_NO_OPEN_BEGUN}",
            inbound_id,
            status,
            decided_by,
            reference,
            reason,
        )
        return result.endswith(" 1")

    async def claim(
        self,
        inbound_id: uuid.UUID,
        *,
        claimed_as: str,
        decided_by: str,
        lease: timedelta,
        reference: str | None = None,
    ) -> uuid.UUID | None:
        """Take a waiting item for a decision whose effect comes next (migration 350): its claim id, or None
        if it no longer waits, or if an open decision on it began and this one is not `opened` (`open_begun`).
        The claim lapses after `lease` (then inbound/claims.py settles it)."""
        found = await self._db.fetchval(
            "UPDATE inbound_messages SET status = 'claimed', claim_id = gen_random_uuid(), claimed_as = $2,"
            " decided_by = $3, decided_at = now(), claim_expires_at = now() + $4::interval,"
            " claim_reference = $5 WHERE id = $1 AND status = 'triage'"
            f" AND ($2 = 'opened' OR {_NO_OPEN_BEGUN}) RETURNING claim_id",
            inbound_id,
            claimed_as,
            decided_by,
            lease,
            reference,
        )
        return None if found is None else uuid.UUID(str(found))

    async def finish_claim(
        self, inbound_id: uuid.UUID, claim_id: uuid.UUID, *, status: str, reference: str | None
    ) -> bool:
        """The claimed decision's effect is kept: the item takes its final status (or `routing`, its signal
        still to send). False if this claim is no longer the item's (it lapsed and was settled)."""
        result = await self._db.execute(
            "UPDATE inbound_messages SET status = $3, reference = coalesce($4, reference),"
            " processed_at = now(), claim_expires_at = NULL"
            " WHERE id = $1 AND status = 'claimed' AND claim_id = $2",
            inbound_id,
            claim_id,
            status,
            reference,
        )
        return result.endswith(" 1")

    async def release(self, inbound_id: uuid.UUID, claim_id: uuid.UUID) -> bool:
        """Undo a claim whose effect was not kept: the item waits in triage again, for a retry. Only while
        this claim is still the item's (a finished one, or one settled and taken again, is left alone)."""
        result = await self._db.execute(
            "UPDATE inbound_messages SET status = 'triage', decided_by = NULL, decided_at = NULL,"
            " decision_reason = NULL, claim_id = NULL, claimed_as = NULL, claim_expires_at = NULL,"
            " claim_reference = NULL WHERE id = $1 AND status = 'claimed' AND claim_id = $2",
            inbound_id,
            claim_id,
        )
        return result.endswith(" 1")

    async def open_begun(self, inbound_id: uuid.UUID) -> OpenBegun | None:
        """The complaint an open decision on the item began (its reference kept with the intake key, whether
        or not the request went on to finish), or None if none did."""
        row = await self._db.fetchrow(
            "SELECT k.reference, c.reference IS NOT NULL AS opened FROM intake_keys k"
            " LEFT JOIN complaints c ON c.reference = k.reference WHERE k.owner = 'triage' AND k.key = $1"
            # A held submission's key is its reference from the start, not a trace of an open (see
            # _NO_OPEN_BEGUN).
            f" AND NOT ({_HELD_NOT_BEGUN.format(id='$2')})",
            open_key(inbound_id),
            inbound_id,
        )
        return None if row is None else OpenBegun(reference=str(row["reference"]), opened=row["opened"])

    async def lapsed_claims(self, *, limit: int = 100) -> list[LapsedClaim]:
        """Claims past their lease: the request that took them died (or hung) before finishing."""
        rows = await self._db.fetch(
            "SELECT id, claim_id, claimed_as, claim_reference, decided_by, received_at FROM inbound_messages"
            " WHERE status = 'claimed' AND claim_expires_at < now() ORDER BY claim_expires_at LIMIT $1",
            limit,
        )
        return [LapsedClaim.model_validate(dict(row)) for row in rows]

    async def raw(self, inbound_id: uuid.UUID) -> tuple[bytes, list[str], str] | None:
        """The raw message, its envelope recipients and the keyed hash of its sender."""
        row = await self._db.fetchrow(
            "SELECT raw, recipients, sender_key FROM inbound_messages WHERE id = $1", inbound_id
        )
        if row is None or row["raw"] is None:
            return None
        return bytes(row["raw"]), list(row["recipients"]), str(row["sender_key"])

    async def get(self, inbound_id: uuid.UUID) -> InboundMessage | None:
        row = await self._db.fetchrow(f"SELECT {_COLUMNS} FROM inbound_messages WHERE id = $1", inbound_id)
        return None if row is None else _message(row)

    async def by_message_id(self, message_id: str) -> InboundMessage | None:
        row = await self._db.fetchrow(
            f"SELECT {_COLUMNS} FROM inbound_messages WHERE message_key = $1", message_key(message_id)
        )
        return None if row is None else _message(row)

    async def for_complaint(self, reference: str) -> list[InboundMessage]:
        """The messages joined to a complaint (a subject access request shows them), oldest first."""
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM inbound_messages WHERE reference = $1 ORDER BY received_at, id",
            reference,
        )
        return [_message(row) for row in rows]

    async def triage(self, *, limit: int = 100) -> list[InboundMessage]:
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM inbound_messages WHERE status = 'triage'"
            " ORDER BY received_at, id LIMIT $1",
            limit,
        )
        return [_message(row) for row in rows]

    async def waiting(self, *, cap: int = 1000) -> int:
        """How many wait in the queue, counted up to `cap` (+1: the console shows "1,000+")."""
        return int(
            await self._db.fetchval(
                "SELECT count(*) FROM (SELECT 1 FROM inbound_messages WHERE status = 'triage' LIMIT $1) AS w",
                cap + 1,
            )
        )

    async def unfinished(self, *, older_than: timedelta) -> list[tuple[uuid.UUID, str, datetime]]:
        """Messages a receiver stored but did not finish (an outage, a crash): the sweep takes them again."""
        rows = await self._db.fetch(
            "SELECT id, status, received_at FROM inbound_messages WHERE status IN ('received', 'routing')"
            " AND received_at < now() - $1::interval ORDER BY received_at LIMIT 100",
            older_than,
        )
        return [(uuid.UUID(str(row["id"])), str(row["status"]), row["received_at"]) for row in rows]

    async def from_sender(self, *, sender_key: str, since: datetime, until: datetime) -> int:
        """Messages from this sender (by keyed hash) that arrived in [since, until]."""
        return int(
            await self._db.fetchval(
                "SELECT count(*) FROM inbound_messages WHERE sender_key = $1"
                " AND received_at >= $2 AND received_at <= $3",
                sender_key,
                since,
                until,
            )
        )


async def delete_inbound(db: Executor, reference: str) -> int:
    """Destroy every message that reached a complaint (the retention purge, with its other personal data)."""
    await db.execute(
        "UPDATE service_requests SET inbound_id = NULL WHERE inbound_id IN"
        " (SELECT id FROM inbound_messages WHERE reference = $1)",
        reference,
    )
    result = await db.execute("DELETE FROM inbound_messages WHERE reference = $1", reference)
    return int(result.split()[-1])


async def purge_unlinked(db: Executor, *, decided_before: datetime) -> int:
    """Destroy the messages of no complaint decided (or dropped) before `decided_before`, and those never
    decided that arrived before it (a triage item nobody dealt with is not kept for ever); the register of
    service requests keeps its counts (their link to the message is cleared)."""
    result = await db.execute(
        "DELETE FROM inbound_messages WHERE reference IS NULL AND ("
        " (status = ANY($1::text[]) AND coalesce(decided_at, processed_at, received_at) < $2)"
        " OR (status = 'triage' AND received_at < $2))",
        list(FINAL_WITHOUT_CASE),
        decided_before,
    )
    return int(result.split()[-1])


class ServiceRequest(BaseModel):
    id: uuid.UUID
    inbound_id: uuid.UUID | None
    policy_id: str
    service_area: str
    status: str
    received_at: datetime
    created_by: str
    created_at: datetime
    updated_at: datetime


_REQUEST_COLUMNS = ", ".join(ServiceRequest.model_fields)


class ServiceRequestRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def add(
        self,
        *,
        inbound_id: uuid.UUID,
        policy_id: str,
        service_area: str,
        received_at: datetime,
        created_by: str,
    ) -> ServiceRequest:
        row = await self._db.fetchrow(
            "INSERT INTO service_requests (inbound_id, policy_id, service_area, received_at, created_by)"
            f" VALUES ($1, $2, $3, $4, $5) RETURNING {_REQUEST_COLUMNS}",
            inbound_id,
            policy_id,
            service_area,
            received_at,
            created_by,
        )
        assert row is not None
        return ServiceRequest.model_validate(dict(row))

    async def set_status(self, request_id: uuid.UUID, status: str) -> ServiceRequest | None:
        row = await self._db.fetchrow(
            "UPDATE service_requests SET status = $2, updated_at = now() WHERE id = $1"
            f" RETURNING {_REQUEST_COLUMNS}",
            request_id,
            status,
        )
        return None if row is None else ServiceRequest.model_validate(dict(row))

    async def register(self, *, status: str | None = None, limit: int = 100) -> list[ServiceRequest]:
        rows = await self._db.fetch(
            f"SELECT {_REQUEST_COLUMNS} FROM service_requests WHERE ($1::text IS NULL OR status = $1)"
            " ORDER BY received_at DESC, id LIMIT $2",
            status,
            limit,
        )
        return [ServiceRequest.model_validate(dict(row)) for row in rows]

    async def counts(self, *, start: datetime, end: datetime, policy_id: str | None) -> list[dict[str, Any]]:
        """Service requests received in [start, end), by council, service area and status."""
        rows = await self._db.fetch(
            "SELECT policy_id, service_area, status, count(*) AS count FROM service_requests"
            " WHERE received_at >= $1 AND received_at < $2 AND ($3::text IS NULL OR policy_id = $3)"
            " GROUP BY policy_id, service_area, status ORDER BY policy_id, service_area, status",
            start,
            end,
            policy_id,
        )
        return [dict(row) for row in rows]


class MailboxCursors:
    """The IMAP poller's place in each mailbox (migration 262): its UIDVALIDITY and the last UID read."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def get(self, mailbox: str) -> tuple[int, int] | None:
        row = await self._db.fetchrow(
            "SELECT uid_validity, last_uid FROM inbound_mailbox_cursors WHERE mailbox = $1", mailbox
        )
        return None if row is None else (int(row["uid_validity"]), int(row["last_uid"]))

    async def put(self, mailbox: str, *, uid_validity: int, last_uid: int) -> None:
        await self._db.execute(
            "INSERT INTO inbound_mailbox_cursors (mailbox, uid_validity, last_uid) VALUES ($1, $2, $3)"
            " ON CONFLICT (mailbox) DO UPDATE SET uid_validity = $2, last_uid = $3, updated_at = now()",
            mailbox,
            uid_validity,
            last_uid,
        )
