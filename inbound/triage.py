"""What an officer does with a message that waits in triage: open a complaint from it, join it to a complaint,
record the request for the next stage it makes, record it as a service request, or dismiss it. Each decides
the item once (a second officer acting on it gets 409) and is audited without the message's words."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from api.errors import ProblemError
from api.schemas import ComplaintCreate
from api.staff_intake import check_intake, open_staff_complaint
from api.updates import run_action
from core.services import Services
from domain import commands as cmd
from domain.due import Due
from domain.models import Actor
from inbound import held_later
from inbound.delivery import Decision, deliver
from inbound.held_due import HeldDue, held_due
from inbound.parse import MailFile, files_of, read_message, sender_name
from inbound.store import (
    OPEN_KEY_OWNER,
    InboundMessage,
    InboundRepository,
    ServiceRequest,
    ServiceRequestRepository,
    open_key,
)
from store.audit import AuditRepository
from store.complaints import ComplaintRecord, ComplaintRepository, Executor
from store.held_submissions import HeldSubmissionRepository
from store.resident_access import ResidentAccessRepository
from store.staff import StaffUser

log = logging.getLogger(__name__)
PREVIEW_CHARS = 300


class TriageItem(BaseModel):
    """A message in the queue: who sent it, what about, the start of its text, its files, when it came."""

    id: uuid.UUID
    arrived_at: datetime
    sender: str | None
    subject: str | None
    text_start: str
    attachments: list[dict[str, Any]]
    flag: str | None = Field(description="Why a message naming a complaint waits here (e.g. sender_mismatch)")
    flag_text: str | None
    candidate: str | None = Field(description="The complaint reference the message names, if any")
    # A held web submission (api/resident/withheld.py): what its sender was told, which nothing else shows
    # staff until an officer decides the item.
    acknowledge_by: date | None = Field(
        default=None, description="A held web submission's: the acknowledgement date its sender was told"
    )
    resolve_by: date | None = Field(
        default=None,
        description="A held web submission under an early-resolution step: the date its sender was told",
    )
    due: Due | None = Field(
        default=None,
        description="overdue, or due_soon (by the end of the 3rd working day), as the complaint queues mark"
        " a deadline: the told date of a held web submission",
    )


FLAG_TEXT = {
    "sender_mismatch": "sender does not match",
    "unknown_reference": "names a complaint that does not exist",
    "next_stage_request": "asks for the next stage: record it from here",
    "contact_restricted": "the sender's online contact is restricted",
    "over_limit": "past a limit (size, attachments or messages an hour): kept unprocessed",
    "unreadable": "the service could not read it: kept as it came",
    "not_delivered": "its complaint has ended, so it could not be added: its files are on it",
    "looks_automatic": "looks automatic (an out-of-office subject), but no automatic-reply header",
}


def item_of(message: InboundMessage, held: HeldDue | None = None) -> TriageItem:
    return TriageItem(
        acknowledge_by=None if held is None else held.dates.acknowledge_by,
        resolve_by=None if held is None or held.dates.acknowledge_by else held.dates.respond_by,
        due=None if held is None else held.due,
        id=message.id,
        arrived_at=message.received_at,
        sender=message.sender,
        subject=message.subject,
        text_start=(message.text or "")[:PREVIEW_CHARS],
        attachments=message.attachments,
        flag=message.flag,
        flag_text=FLAG_TEXT.get(message.flag or ""),
        candidate=message.candidate,
    )


async def items_of(services: Services, messages: list[InboundMessage]) -> list[TriageItem]:
    """The items as the queue shows them, a held submission's with the date its sender was told."""
    due = await held_due(services, [message.id for message in messages])
    return [item_of(message, due.get(message.id)) for message in messages]


async def waiting(services: Services, inbound_id: uuid.UUID) -> InboundMessage:
    """The triage item, or 404; 409 when it was decided already."""
    message = await InboundRepository(services.pool).get(inbound_id)
    if message is None:
        raise ProblemError(404, "Not found", f"no inbound message {inbound_id}", "not-found")
    if message.status == "claimed":
        raise _being_decided()
    if message.status != "triage":
        raise ProblemError(
            409,
            "Not possible now",
            f"this message was already dealt with ({message.status})",
            "already-decided",
        )
    return message


async def _files(services: Services, message: InboundMessage) -> list[MailFile]:
    found = await InboundRepository(services.pool).raw(message.id)
    # Parsed in a thread: a large message must not hold up the event loop.
    return await asyncio.to_thread(lambda: files_of(read_message(found[0]))) if found else []


async def _audit(
    db: Executor, staff: StaffUser, action: str, message: InboundMessage, request_id: str, **facts: Any
) -> None:
    await AuditRepository(db).append_by(
        staff,
        action,
        reference=facts.pop("reference", None),
        request_id=request_id,
        after={"inbound_id": str(message.id), "flag": message.flag, **facts},
    )


def _decided_by_someone_else() -> ProblemError:
    return ProblemError(409, "Not possible now", "another officer dealt with this message", "already-decided")


def _being_decided() -> ProblemError:
    return ProblemError(
        409, "Not possible now", "another officer is dealing with this message now", "already-decided"
    )


class _NotWaiting(Exception):
    """A one-step decision found the item no longer waiting: its transaction is rolled back, then the
    officer is told why (`_not_decided`)."""


# What each decision would have done, for the officer told it was not done.
NOT_DONE = {
    "linked": "joined to the complaint you named",
    "escalation_recorded": "recorded as a request for the next stage",
    "service_request": "recorded as a service request",
    "dismissed": "dismissed",
}


async def _not_decided(
    services: Services, staff: StaffUser, inbound_id: uuid.UUID, decision: str, request_id: str
) -> ProblemError:
    """Why a decision could not take the item (a 409). An item on which an open decision began (its request
    failed after the complaint was opened, or while it was being opened, and the item came back to the
    queue) belongs to that complaint: any other decision on it would leave the complaint without its
    e-mail, so none is taken (inbound.store's guard on `decide` and `claim`). The complaint open, the item
    is finished as opened here (its files as evidence) and the officer told so; still being opened, the
    officer is told to open it again, which finishes that same complaint (its intake key is the message's)."""
    begun = await InboundRepository(services.pool).open_begun(inbound_id)
    if begun is None or decision == "opened":
        return _decided_by_someone_else()
    if not begun.opened:
        return ProblemError(
            409,
            "Not possible now",
            f"an earlier decision began opening complaint {begun.reference} from this message: open a"
            " complaint from it again to finish that one (no second complaint is opened)",
            "open-unfinished",
        )
    await _finish_earlier_open(services, staff, inbound_id, begun.reference, decision, request_id)
    return ProblemError(
        409,
        "Not possible now",
        f"this message opened complaint {begun.reference} (a decision that failed part-way): it is now joined"
        f" to that complaint, and was not {NOT_DONE.get(decision, decision)}",
        "opened-complaint",
    )


async def _finish_earlier_open(
    services: Services,
    staff: StaffUser,
    inbound_id: uuid.UUID,
    reference: str,
    decision: str,
    request_id: str,
) -> None:
    message = await InboundRepository(services.pool).get(inbound_id)
    if message is None or message.status != "triage":
        return  # finished already, or another request is finishing it
    try:
        async with _claimed(services, staff, inbound_id, "opened", request_id) as claim_id:
            await finish_opened(services, message, reference, staff.id, staff.role.value, request_id,
                                claim_id, finished_instead_of=decision)  # fmt: skip
    except ProblemError:
        return  # another request took the item in between: it finishes the same complaint


# A claim lapses after this long (migration 350): far longer than any request takes, so only a claim whose
# request died is settled by the sweep (inbound/claims.py).
CLAIM_LEASE = timedelta(minutes=5)


@asynccontextmanager
async def _claimed(
    services: Services,
    staff: StaffUser,
    inbound_id: uuid.UUID,
    status: str,
    request_id: str,
    reference: str | None = None,
) -> AsyncIterator[uuid.UUID]:
    """The item is claimed for the decision `status` before anything is done, so a concurrent decision gets
    409 before any complaint is opened or signalled; the delivery that carries the decision out finishes the
    claim in its transaction (inbound.delivery.deliver). If the action fails before that, the claim is
    released and the item waits in triage for a retry; if the process dies in between, the claim lapses and
    the sweep finishes it (its effect found on the complaint) or puts it back (inbound/claims.py): never
    decided with nothing done. What a held submission's sender sends meanwhile waits, then goes where the
    decision put the item (inbound/held_later.py)."""
    repository = InboundRepository(services.pool)
    claim_id = await repository.claim(
        inbound_id, claimed_as=status, decided_by=staff.id, lease=CLAIM_LEASE, reference=reference
    )
    if claim_id is None:
        raise await _not_decided(services, staff, inbound_id, status, request_id)
    try:
        yield claim_id
    except BaseException:
        await held_later.release_claim(services, inbound_id, claim_id)
        raise
    await held_later.settle_quietly(services, inbound_id)


# ------------------------------------------------------------------------------------- open a complaint


async def intake_draft(services: Services, message: InboundMessage) -> dict[str, Any]:
    """The intake as the message gives it: channel e-mail, received when it arrived, the sender and the text.
    The officer adds the council, the service area and anything else (ComplaintCreate)."""
    found = await InboundRepository(services.pool).raw(message.id)
    name = sender_name(read_message(found[0])) if found else ""
    return {
        "received_at": message.received_at.isoformat(),
        # The public form's submission held for a contact restriction (issue 29) came by the web.
        "channel": "web" if message.source == "web" else "email",
        "complainant": {"name": name or None, "email": message.sender, "preferred_contact": "email"},
        "summary": (message.text or message.subject or "")[:10_000],
    }


def _merge(draft: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(given.get("complainant") or {}, dict):
        raise ProblemError(422, "Invalid request", "body.complainant: must be an object")
    merged = {**draft, **{key: value for key, value in given.items() if key != "complainant"}}
    merged["complainant"] = {**draft["complainant"], **dict(given.get("complainant") or {})}
    # Received when it arrived, by its channel: the facts of the message, not the officer's to change.
    merged["received_at"], merged["channel"] = draft["received_at"], draft["channel"]
    return merged


async def open_complaint(
    services: Services, staff: StaffUser, inbound_id: uuid.UUID, given: dict[str, Any], request_id: str
) -> str:
    message = await waiting(services, inbound_id)
    check_intake(await _intake(services, message, given), services.policies)  # a 422 before the claim
    async with _claimed(services, staff, inbound_id, "opened", request_id) as claim_id:
        # Read again once claimed: what a held submission's sender added before the claim is in it, and
        # nothing is added until the decision ends (inbound/held_later.py).
        message = await InboundRepository(services.pool).get(inbound_id) or message
        body = await _intake(services, message, given)
        return await _open_and_deliver(services, staff, message, body, request_id, claim_id)


async def _intake(services: Services, message: InboundMessage, given: dict[str, Any]) -> ComplaintCreate:
    try:
        return ComplaintCreate.model_validate(_merge(await intake_draft(services, message), given))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ProblemError(422, "Invalid request", f"{field}: {first['msg']}") from error


async def _open_and_deliver(
    services: Services,
    staff: StaffUser,
    message: InboundMessage,
    body: ComplaintCreate,
    request_id: str,
    claim_id: uuid.UUID,
) -> str:
    inbound_id = message.id
    # A held web submission's key is its reference from the start: mark that an open begins (the request may
    # get no answer while the workflow starts), so the item can then only be finished as that complaint.
    held = HeldSubmissionRepository(services.pool)
    # Checked once the item is claimed (a held withdrawal needs it waiting): a complaint its sender withdrew
    # online stays withdrawn, as any complaint withdrawn online does (api/resident/held_actions.py).
    if await held.withdrawn_before_open(inbound_id):
        raise ProblemError(
            409,
            "Not possible now",
            "the sender withdrew it online (see the message): dismiss it, no complaint is opened from it",
            "withdrawn",
        )
    await held.open_begins(inbound_id)
    reference = await open_staff_complaint(
        pool=services.pool,
        temporal=services.temporal,
        task_queue=services.settings.task_queue,
        policies=services.policies,
        staff=staff,
        body=body,
        request_id=request_id,
        # One complaint per message, whatever is retried: the key is the message's.
        idempotency_key=open_key(inbound_id),
        key_owner=OPEN_KEY_OWNER,
        key_ttl=timedelta(days=3650),
    )
    await finish_opened(services, message, reference, staff.id, staff.role.value, request_id, claim_id)
    return reference


async def finish_opened(
    services: Services,
    message: InboundMessage,
    reference: str,
    actor_id: str,
    actor_role: str,
    request_id: str,
    claim_id: uuid.UUID,
    **facts: Any,
) -> None:
    """The complaint is open: its files as evidence and the item `opened`, audited, in one transaction. A
    submission held for a contact restriction (api/resident/withheld.py) was opened under the reference its
    resident was given: the e-mails it sent become the complaint's (its credentials already name it)."""
    record = await _record(services, reference)
    await ResidentAccessRepository(services.pool).move_held_notifications(
        reference=reference, workflow_id=record.workflow_id
    )
    await deliver(
        services, message.id, record, await _files(services, message), actor_id=actor_id,
        actor_role=actor_role, request_id=request_id, final_status="opened", signal=False,
        claim_id=claim_id, decision=Decision("triage_open_complaint", {"flag": message.flag, **facts}),
    )  # fmt: skip


async def _record(services: Services, reference: str) -> ComplaintRecord:
    return await ComplaintRepository(services.pool).get(reference=reference)


# ------------------------------------------------------------------------- join to an existing complaint


async def link(
    services: Services, staff: StaffUser, inbound_id: uuid.UUID, record: ComplaintRecord, request_id: str
) -> None:
    """The message's text reaches the complaint as new information (e-mail, when it arrived), its files as
    evidence: what a reply naming its reference from the complainant's address does by itself."""
    message = await waiting(services, inbound_id)
    files = await _files(services, message)
    async with _claimed(services, staff, inbound_id, "linked", request_id, record.reference) as claim_id:
        try:
            # Files stored, the claim finished as `routing` and the decision audited in one transaction (a
            # failure there releases the claim), then the signal.
            await deliver(
                services, inbound_id, record, files, actor_id=staff.id, actor_role=staff.role.value,
                request_id=request_id, final_status="linked", claim_id=claim_id,
                decision=Decision("triage_link", {"flag": message.flag}),
            )  # fmt: skip
        except Exception as error:
            stored = await InboundRepository(services.pool).get(inbound_id)
            if stored is None or stored.status != "routing":
                raise
            # Stored and `routing`: the sweep sends the signal, then marks it `linked`.
            log.warning(
                "inbound message %s linked, signal not sent yet (%s): the sweep retries",
                inbound_id,
                type(error).__name__,
            )


class EscalationFromEmail(BaseModel):
    reference: str = Field(min_length=1, max_length=40)
    outcome_wanted: str = Field(default="", max_length=5_000)
    accept_late_reason: str | None = Field(default=None, max_length=5_000)


async def record_escalation(
    services: Services,
    staff: StaffUser,
    inbound_id: uuid.UUID,
    record: ComplaintRecord,
    body: EscalationFromEmail,
    request_id: str,
) -> None:
    """The officer records the request for the next stage the e-mail makes, received when it arrived (the
    workflow decides whether it was in time); the message is joined to the complaint."""
    message = await waiting(services, inbound_id)
    claim = _claimed(services, staff, inbound_id, "escalation_recorded", request_id, record.reference)
    async with claim as claim_id:
        await _escalate_and_deliver(services, staff, message, record, body, request_id, claim_id)


async def _escalate_and_deliver(
    services: Services,
    staff: StaffUser,
    message: InboundMessage,
    record: ComplaintRecord,
    body: EscalationFromEmail,
    request_id: str,
    claim_id: uuid.UUID,
) -> None:
    command = cmd.RequestEscalation(
        actor=Actor(id=staff.id, role=staff.role, name=staff.name),
        reasons=(message.text or "")[:10_000],
        outcome_wanted=body.outcome_wanted,
        received_at=message.received_at,
        accept_late_reason=body.accept_late_reason,
    )
    # The update's id is the message's: a retry after a failure it did not see is applied once by Temporal.
    await run_action(
        "request_escalation", command, record, services.temporal, f"triage:{message.id}", pool=services.pool
    )
    await finish_escalation(services, message, record, staff.id, staff.role.value, request_id, claim_id)


async def finish_escalation(
    services: Services,
    message: InboundMessage,
    record: ComplaintRecord,
    actor_id: str,
    actor_role: str,
    request_id: str,
    claim_id: uuid.UUID,
    **facts: Any,
) -> None:
    """The next stage is requested: the message's files as evidence and the item `escalation_recorded`,
    audited, in one transaction."""
    await deliver(
        services, message.id, record, await _files(services, message), actor_id=actor_id,
        actor_role=actor_role, request_id=request_id, final_status="escalation_recorded", signal=False,
        claim_id=claim_id, decision=Decision("triage_record_escalation", {"flag": message.flag, **facts}),
    )  # fmt: skip


# ------------------------------------------------------------------------- a service request, or dismissed


class ServiceRequestFromEmail(BaseModel):
    policy_id: str = Field(min_length=1, max_length=64)
    service_area: str = Field(min_length=1, max_length=100)


async def record_service_request(
    services: Services,
    staff: StaffUser,
    inbound_id: uuid.UUID,
    body: ServiceRequestFromEmail,
    request_id: str,
) -> ServiceRequest:
    message = await waiting(services, inbound_id)
    if body.policy_id not in services.policies:
        raise ProblemError(422, "Invalid request", f"policy_id: unknown policy {body.policy_id!r}")
    if area_problem := services.policies[body.policy_id].area_problem(body.service_area):
        raise ProblemError(422, "Invalid request", area_problem)
    try:
        async with services.pool.acquire() as connection, connection.transaction():
            if not await InboundRepository(connection).decide(
                inbound_id, status="service_request", decided_by=staff.id
            ):
                raise _NotWaiting()
            created = await ServiceRequestRepository(connection).add(
                inbound_id=inbound_id,
                policy_id=body.policy_id,
                service_area=body.service_area,
                received_at=message.received_at,
                created_by=staff.id,
            )
            await _audit(
                connection, staff, "triage_service_request", message, request_id,
                policy_id=body.policy_id, service_area=body.service_area, status=created.status,
            )  # fmt: skip
    except _NotWaiting:
        raise await _not_decided(services, staff, inbound_id, "service_request", request_id) from None
    return created


class Dismissal(BaseModel):
    reason: str = Field(min_length=1, max_length=2_000)


async def dismiss(
    services: Services, staff: StaffUser, inbound_id: uuid.UUID, body: Dismissal, request_id: str
) -> None:
    message = await waiting(services, inbound_id)
    # Decided and audited in one transaction: nothing can fall between them.
    try:
        async with services.pool.acquire() as connection, connection.transaction():
            if not await InboundRepository(connection).decide(
                inbound_id, status="dismissed", decided_by=staff.id, reason=body.reason
            ):
                raise _NotWaiting()
            await _audit(connection, staff, "triage_dismiss", message, request_id, reason=body.reason)
    except _NotWaiting:
        raise await _not_decided(services, staff, inbound_id, "dismissed", request_id) from None
