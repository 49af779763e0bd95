"""What the sender of a held submission (api/resident/withheld.py) sends while an officer's decision holds its
triage item (the claim: normally under a second, at most the lease after a crash). It is accepted as on any
complaint, and waits (migration 440) so that the decision carries out the item as the officer read it; when
the decision ends it goes where the decision put the item's other information:

    opened       to the complaint opened from the item: information as the workflow's `add_information`
                 (the resident's, received when it was sent), a file as the complaint's evidence
    released     (the open failed, or its claim lapsed: inbound/claims.py) back onto the item, in the same
                 transaction as the release, so the item waits again with everything sent
    otherwise    onto the item (its text, its files), as what came before the decision

The resident's request and the claim's last step lock the item's row (`item_status`, `finish_claim`), so a
text sent during the open is either kept here before the open ends (then moved by it) or finds the complaint
open (and is sent to it as to any complaint: api/resident/actions.py). A move that fails (Temporal down) is
left here and retried by the inbound sweep (`settle_left`); each piece is moved once (a workflow Update id per
piece, the row deleted with the file it became)."""

from __future__ import annotations

import logging
import uuid
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage

from api.attachments import audit_facts
from api.errors import ProblemError
from api.updates import run_action
from core.services import Services
from domain import commands as cmd
from domain.models import Actor, Role
from inbound.store import InboundRepository
from store.attachments import AttachmentRepository
from store.audit import AuditRepository, event_key
from store.complaints import ComplaintRecord, ComplaintRepository, Executor
from store.held_submissions import HeldSubmissionRepository, SentDuringDecision, SentFile

log = logging.getLogger(__name__)
RESIDENT = Role.RESIDENT.value


async def add_file(db: Executor, inbound_id: uuid.UUID, file: SentFile, *, waiting_only: bool = True) -> bool:
    """The file added to the item's message (so opening a complaint from it carries it as evidence) and to
    its list; in the caller's transaction, the item's row locked. False if the item no longer waits."""
    raw = await db.fetchval(
        "SELECT raw FROM inbound_messages WHERE id = $1 AND (status = 'triage' OR NOT $2) FOR UPDATE",
        inbound_id,
        waiting_only,
    )
    if raw is None:
        return False
    message = message_from_bytes(bytes(raw), policy=email_policy.default)
    assert isinstance(message, EmailMessage)
    maintype, _, subtype = file.content_type.partition("/")
    message.add_attachment(file.content, maintype=maintype, subtype=subtype, filename=file.filename)
    return await HeldSubmissionRepository(db).add_to_item(
        inbound_id, text="", raw=bytes(message), attachment=file.attachment, waiting_only=waiting_only
    )


async def onto_item(db: Executor, inbound_id: uuid.UUID) -> int:
    """What waited, put on the item in the order it was sent (in the caller's transaction); how many."""
    held = HeldSubmissionRepository(db)
    moved = 0
    for sent in await held.sent_during_decision(inbound_id):
        if not await held.take_sent(sent.seq):
            continue
        if sent.file is not None:
            await add_file(db, inbound_id, sent.file, waiting_only=False)
        else:
            await held.add_to_item(inbound_id, text=sent.text or "", waiting_only=False)
        moved += 1
    return moved


async def release_claim(services: Services, inbound_id: uuid.UUID, claim_id: uuid.UUID) -> bool:
    """Undo a claim whose effect was not kept (InboundRepository.release), and put what was sent meanwhile on
    the item, in one transaction: the item waits again with all of it."""
    async with services.pool.acquire() as connection, connection.transaction():
        released = await InboundRepository(connection).release(inbound_id, claim_id)
        if released:
            await onto_item(connection, inbound_id)
    return released


async def settle(services: Services, inbound_id: uuid.UUID) -> None:
    """After a decision on the item ended: what was sent meanwhile goes where the item went."""
    waiting = await HeldSubmissionRepository(services.pool).sent_during_decision(inbound_id)
    if not waiting:
        return  # the usual case: nothing was sent during the decision (or the item is an e-mail)
    message = await InboundRepository(services.pool).get(inbound_id)
    if message is None or message.status == "claimed":
        return  # purged, or a decision holds it (again): that decision's end moves it
    if message.status == "opened" and message.reference is not None:
        record = await ComplaintRepository(services.pool).get(reference=message.reference)
        for sent in waiting:
            await _to_complaint(services, record, sent)
        return
    async with services.pool.acquire() as connection, connection.transaction():
        if await HeldSubmissionRepository(connection).item_status(inbound_id) != "claimed":
            await onto_item(connection, inbound_id)


async def settle_quietly(services: Services, inbound_id: uuid.UUID) -> None:
    """`settle`, never failing the officer's decision, which is done: the inbound sweep retries it."""
    try:
        await settle(services, inbound_id)
    except Exception as error:
        log.warning(
            "triage item %s: what its sender sent during the decision not moved yet (%s): the sweep retries",
            inbound_id,
            type(error).__name__,
        )


async def settle_left(services: Services) -> int:
    """The inbound sweep: what a request that died after its decision ended did not move; how many items."""
    items = await HeldSubmissionRepository(services.pool).items_with_sent_left()
    for inbound_id in items:
        await settle_quietly(services, inbound_id)
    return len(items)


async def _to_complaint(services: Services, record: ComplaintRecord, sent: SentDuringDecision) -> None:
    if sent.file is not None:
        async with services.pool.acquire() as connection, connection.transaction():
            if await HeldSubmissionRepository(connection).take_sent(sent.seq):
                await _evidence(connection, record.reference, sent.file, sent.inbound_id)
        return
    name = str(record.complainant.get("name") or "")
    command = cmd.AddInformation(
        actor=Actor(id="resident", role=Role.RESIDENT, name=name),
        summary=sent.summary or sent.text or "",
        received_at=sent.sent_at,
    )
    try:
        # One Update per piece (its id): a retry after an answer that was lost applies it once.
        receipt = await run_action(
            "add_information", command, record, services.temporal,
            f"held-sent:{sent.inbound_id}:{sent.seq}", pool=services.pool,
        )  # fmt: skip
    except ProblemError as refused:
        if refused.problem.status >= 500:
            raise
        # The workflow refused it (the complaint moved on meanwhile): never lost, it stays on the message
        # joined to the complaint, where staff read its e-mails.
        async with services.pool.acquire() as connection, connection.transaction():
            held = HeldSubmissionRepository(connection)
            if await held.take_sent(sent.seq):
                await held.add_to_item(sent.inbound_id, text=sent.text or "", waiting_only=False)
        return
    async with services.pool.acquire() as connection, connection.transaction():
        if await HeldSubmissionRepository(connection).take_sent(sent.seq):
            await AuditRepository(connection).append(
                actor_id="resident",
                actor_role=RESIDENT,
                action="add_information",
                reference=record.reference,
                request_id=f"held-sent:{sent.inbound_id}",
                after={"seq": receipt.seq, "length": len(command.summary), "sent_during_decision": True},
                once_key=event_key(record.reference, "add_information", receipt.seq),
            )


async def _evidence(db: Executor, reference: str, file: SentFile, inbound_id: uuid.UUID) -> None:
    """The file as the complaint's evidence, sent by the resident, with its audit row (as api.attachments'
    store_upload writes them: it was checked when it was sent)."""
    attachment = await AttachmentRepository(db).add(
        reference=reference,
        filename=file.filename,
        content_type=file.content_type,
        content=file.content,
        uploaded_by="resident",
        uploader_role=RESIDENT,
    )
    await AuditRepository(db).append(
        actor_id="resident",
        actor_role=RESIDENT,
        action="attach",
        reference=reference,
        request_id=f"held-sent:{inbound_id}",
        after=audit_facts(attachment),
    )
