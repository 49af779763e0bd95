"""A resident's actions on a submission held in triage for a contact restriction (issue 29, point 11): the
same answers a complaint just received gives, with what was sent kept with the triage item for the officer
(its text appended to the item's, a file added to the item's message, so opening a complaint from the item
carries it as evidence), never lost; while an officer's decision holds the item, information and evidence
wait for its end (inbound/held_later.py), and once it opened a complaint they go to it as to any. Asking for
the next stage or answering an extension is refused as for a received complaint (the action table's status
rule). Audited with codes only."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from starlette.datastructures import UploadFile

from api.attachments import read_upload
from api.errors import ProblemError
from api.resident.access import RESIDENT_ROLE, ResidentAccess
from core.services import Services
from domain.actions import ACTIONS
from domain.deadlines import plan_stage
from domain.letters import complainant_recipient
from domain.models import Status
from domain.rules import status_refusal
from inbound.held_later import add_file
from store.attachments import AttachmentInfo
from store.audit import AuditRepository
from store.complaints import complainant_story
from store.held_submissions import HeldSubmission, HeldSubmissionRepository, SentFile
from store.resident_access import ResidentAccessRepository


def _item(access: ResidentAccess) -> HeldSubmission:
    assert access.held is not None
    return access.held


def refuse_as_received(action: str, access: ResidentAccess) -> None:
    """A complaint's refusal of `action` in the status the held reference shows (409, the same words)."""
    refused = status_refusal(action, Status(access.record.status), ACTIONS[action].allowed_from)
    if refused is not None:
        raise ProblemError(409, "Not possible now", refused.message, "transition-refused")


def _not_now(access: ResidentAccess, action: str) -> ProblemError:
    """The item is being decided (a withdrawal or a request for an investigation waits for the decision: try
    again), or was decided, while the resident wrote: refused as the status shows."""
    item = _item(access)
    if item.decision == "claimed":
        busy = ProblemError(503, "Try again", "we could not add this just now: try again in a minute")
        busy.headers = {"Retry-After": "60"}
        return busy
    doing = action.replace("_", " ")
    return ProblemError(
        409, "Not possible now", f"cannot {doing} while the complaint is {access.record.status}"
    )


async def _audit(
    services: Services, access: ResidentAccess, action: str, request_id: str, **facts: object
) -> None:
    await AuditRepository(services.pool).append(
        actor_id="resident",
        actor_role=RESIDENT_ROLE,
        action=f"held_{action}",
        reference=None,
        request_id=request_id,
        # Codes only: what was sent is on the triage item.
        after={"inbound_id": str(_item(access).inbound_id), **facts},
    )


def _stamp() -> str:
    return datetime.now(UTC).strftime("%d %B %Y %H:%M UTC")


async def send_information(services: Services, access: ResidentAccess, summary: str, request_id: str) -> bool:
    """Kept with the item; False if an officer opened a complaint from it meanwhile (then it is sent to that
    complaint as to any: api/resident/actions.py)."""
    refuse_as_received("add_information", access)
    item = _item(access)
    added = f"\n\n--- Sent later online ({_stamp()}) ---\n{summary}"
    async with services.pool.acquire() as connection, connection.transaction():
        held = HeldSubmissionRepository(connection)
        status = await held.item_status(item.inbound_id)
        if status == "opened":
            return False
        if status == "claimed":  # an officer is deciding it: kept until the decision ends (held_later.py)
            await held.keep_sent(item.inbound_id, text=added, summary=summary)
        elif status != "triage" or not await held.add_to_item(item.inbound_id, text=added):
            raise _not_now(access, "add_information")
    facts = {"during_decision": True} if status == "claimed" else {}
    await _audit(services, access, "add_information", request_id, length=len(summary), **facts)
    return True


async def ask_for_investigation(services: Services, access: ResidentAccess, request_id: str) -> None:
    """At a policy's early-resolution step: the request for a full investigation, kept for the officer; Stage
    1 is planned from it, as the workflow plans a complaint's (domain/rules.py's refusals otherwise)."""
    refuse_as_received("start_investigation", access)
    record = access.record
    policy = services.policies.get(record.policy_id)
    if policy is None or policy.early_resolution is None:
        refused = "this complaint has no early-resolution step (its policy has none)"
        raise ProblemError(409, "Not possible now", refused, "transition-refused")
    if record.acknowledge_by is not None:
        refused = "early resolution has already ended (requested)"
        raise ProblemError(409, "Not possible now", refused, "transition-refused")
    item = _item(access)
    added = f"\n\n--- The sender asked online for a full investigation ({_stamp()}) ---"
    if not await HeldSubmissionRepository(services.pool).add_to_item(item.inbound_id, text=added):
        raise _not_now(access, "start_investigation")
    planned = plan_stage(policy, 1, datetime.now(UTC))
    await HeldSubmissionRepository(services.pool).plan(
        item.reference, acknowledge_by=planned.acknowledge_by, respond_by=planned.respond_by
    )
    await _audit(services, access, "start_investigation", request_id)


async def withdraw(services: Services, access: ResidentAccess, reason: str, request_id: str) -> None:
    refuse_as_received("withdraw", access)
    item = _item(access)
    added = f"\n\n--- The sender withdrew it online ({_stamp()}) ---\n{reason or '(no reason given)'}"
    # In one transaction with the item's row locked while it waits: an officer's claim comes wholly before
    # (refused here) or after (it then sees the withdrawal, and opens no complaint: inbound/triage.py).
    async with services.pool.acquire() as connection, connection.transaction():
        held = HeldSubmissionRepository(connection)
        if not await held.add_to_item(item.inbound_id, text=added):
            raise _not_now(access, "withdraw")
        await held.withdraw(item.reference)
    await _withdrawal_letter(services, access, reason)
    await _audit(services, access, "withdraw", request_id)


async def _withdrawal_letter(services: Services, access: ResidentAccess, reason: str) -> None:
    """The letter a complaint's withdrawal sends (domain/steps/escalation.py), to the same person."""
    record = access.record
    recipient = complainant_recipient(
        anonymous=False, complainant=record.complainant, representative=record.representative
    )
    policy = services.policies.get(record.policy_id)
    if recipient is None or policy is None:
        return
    context = {"reference": record.reference, "stage": record.stage, "policy": policy.name, "reason": reason}
    await ResidentAccessRepository(services.pool).queue_to_resident(
        notification_id=f"held:{record.reference}:withdrawal",
        reference=record.reference,
        workflow_id=record.workflow_id,
        template="withdrawal",
        recipient=recipient,
        context=complainant_story(record.model_dump()) | context,
        held_policy_id=policy.id,
    )


async def send_evidence(
    services: Services, access: ResidentAccess, upload: UploadFile, request_id: str
) -> AttachmentInfo | None:
    """Checked as any upload is (size, content, scanner), then added to the item's message as a file; None
    if an officer opened a complaint from the item meanwhile (then it is sent to that complaint)."""
    refuse_as_received("add_information", access)
    filename, kind, content = await read_upload(upload, services.settings)
    item = _item(access)
    now = datetime.now(UTC)
    info = AttachmentInfo(
        id=uuid.uuid4(),
        filename=filename,
        content_type=kind,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by="resident",
        uploader_role=RESIDENT_ROLE,
        created_at=now,
    )
    sent = {
        "filename": filename,
        "content_type": kind,
        "size": len(content),
        "id": str(info.id),
        "sha256": info.sha256,
        "sent_later_at": now.isoformat(),
    }
    file = SentFile(filename=filename, content_type=kind, content=content, attachment=sent)
    # The message is locked while the file is added: two files sent at once are both kept.
    async with services.pool.acquire() as connection, connection.transaction():
        held = HeldSubmissionRepository(connection)
        status = await held.item_status(item.inbound_id)
        if status == "opened":
            return None
        if status == "claimed":  # an officer is deciding it: kept until the decision ends (held_later.py)
            await held.keep_sent(item.inbound_id, file=file)
        elif status != "triage" or not await add_file(connection, item.inbound_id, file):
            raise _not_now(access, "add_information")
    facts = {"during_decision": True} if status == "claimed" else {}
    await _audit(services, access, "attach", request_id, size=info.size, sha256=info.sha256, **facts)
    return info


def evidence_of(item: HeldSubmission) -> list[AttachmentInfo]:
    """The files the resident sent on the held reference, as a complaint's page lists its evidence (those
    waiting for an officer's decision to end too)."""
    return [
        AttachmentInfo(
            id=uuid.UUID(str(sent["id"])),
            filename=str(sent["filename"]),
            content_type=str(sent["content_type"]),
            size=int(sent["size"]),
            sha256=str(sent["sha256"]),
            uploaded_by="resident",
            uploader_role=RESIDENT_ROLE,
            created_at=datetime.fromisoformat(str(sent["sent_later_at"])),
        )
        for sent in item.attachments + item.files_waiting
        if "sent_later_at" in sent
    ]
