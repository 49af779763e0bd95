"""Everything held about a complainant for one complaint, gathered for a subject access request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from inbound.store import InboundMessage, InboundRepository
from store.audit import AuditEntry, AuditRepository
from store.complaints import ComplaintRecord, ComplaintRepository, EventRecord, Executor, NotificationRecord
from store.held_submissions import HeldSubmission
from store.resident_access import ResidentAccessRepository


class AccessCode(BaseModel):
    """A resident access code as held (the code itself is never stored, only its hash, which is left out)."""

    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class PersonalDataHeld(BaseModel):
    """The complainant's personal data on one complaint, and what was done with it. `workflow_state` is
    the complaint's state as its Temporal workflow holds it (status, dates, the intake; notes, information and
    findings are on the event trail); it is
    None once Temporal no longer keeps the workflow's history."""

    reference: str
    policy_id: str
    personal_data_destroyed_at: datetime | None
    channel: str
    service_area: str
    received_at: datetime
    status: str
    stage: int
    outcome: str | None
    closed_at: datetime | None
    anonymous: bool
    complainant: dict[str, Any]
    representative: dict[str, Any] | None
    summary: str
    desired_outcome: str
    case_details: dict[str, Any] | None
    workflow_state: dict[str, Any] | None = None
    events: list[EventRecord]
    messages: list[NotificationRecord]
    resident_access: list[AccessCode]
    access_log: list[AuditEntry]
    # E-mails from the complainant (or about them) joined to this complaint (inbound/), as read.
    inbound_emails: list[InboundMessage] = []


async def personal_data_held(db: Executor, record: ComplaintRecord) -> PersonalDataHeld:
    complaints = ComplaintRepository(db)
    destroyed_at = await db.fetchval(
        "SELECT personal_data_destroyed_at FROM complaints WHERE reference = $1", record.reference
    )
    codes = await db.fetch(
        "SELECT created_at, expires_at, revoked_at, last_used_at FROM resident_tokens"
        " WHERE reference = $1 ORDER BY created_at",
        record.reference,
    )
    return PersonalDataHeld(
        reference=record.reference,
        policy_id=record.policy_id,
        personal_data_destroyed_at=destroyed_at,
        channel=record.channel,
        service_area=record.service_area,
        received_at=record.received_at,
        status=record.status,
        stage=record.stage,
        outcome=record.outcome,
        closed_at=record.closed_at,
        anonymous=record.anonymous,
        complainant=record.complainant,
        representative=record.representative,
        summary=record.summary,
        desired_outcome=record.desired_outcome,
        case_details=record.state,
        events=await complaints.events(reference=record.reference),
        messages=await complaints.notifications(reference=record.reference),
        resident_access=[AccessCode.model_validate(dict(row)) for row in codes],
        access_log=await AuditRepository(db).for_complaint(reference=record.reference),
        inbound_emails=await InboundRepository(db).for_complaint(record.reference),
    )


async def held_personal_data(db: Executor, item: HeldSubmission, status: str) -> PersonalDataHeld:
    """What is held about the person of a submission held in triage for a contact restriction (no case row:
    api/resident/withheld.py): the form's answers, the e-mails waiting for it in the outbox, its access codes,
    the triage item it is, and the audit rows about that item (codes only, kept under its message's id)."""
    codes = await db.fetch(
        "SELECT created_at, expires_at, revoked_at, last_used_at FROM resident_tokens"
        " WHERE reference = $1 ORDER BY created_at",
        item.reference,
    )
    audit = await db.fetch(
        "SELECT * FROM audit_log WHERE reference = $1 OR (reference IS NULL AND after->>'inbound_id' = $2)"
        " ORDER BY id",
        item.reference,
        str(item.inbound_id),
    )
    message = await InboundRepository(db).get(item.inbound_id)
    return PersonalDataHeld(
        reference=item.reference,
        policy_id=item.policy_id,
        personal_data_destroyed_at=None,
        channel="web",
        service_area=item.service_area,
        received_at=item.received_at,
        status=status,
        stage=1,
        outcome=None,
        closed_at=item.withdrawn_at,
        anonymous=False,
        complainant=item.complainant,
        representative=item.representative,
        summary=item.summary,
        desired_outcome=item.desired_outcome,
        case_details=None,
        events=[],
        messages=await ResidentAccessRepository(db).held_notifications(reference=item.reference),
        resident_access=[AccessCode.model_validate(dict(row)) for row in codes],
        access_log=[AuditEntry.model_validate(dict(row)) for row in audit],
        inbound_emails=[] if message is None else [message],
    )
