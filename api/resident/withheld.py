"""A new online complaint from someone whose new online complaints are restricted (issue 29, point 11).

The public form's answer must not tell a stranger who types an e-mail address whether that person is under a
contact restriction. So the submission is answered as any complaint is (a reference from the same sequence,
a real access code, the same message), but no complaint is opened online: it waits in the staff triage queue
flagged `contact_restricted`, where an officer decides under the restriction. Until then its reference and
code open what a freshly received complaint shows (`held_record`: status received, the acknowledgement date
the policy gives, the same page), and information, evidence or a withdrawal sent on it are kept with the
triage item for the officer (`api/resident/held_actions.py`). The code is stored as a hash like any other
(resident_tokens, migration 400). When the officer opens a complaint from the item it gets the same
reference (the item's intake key is the held reference), so the same code opens the real complaint; when
the officer decides otherwise, the reference shows what the council did (`DECIDED`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from api.intake import reference_for
from core.services import Services
from domain.deadlines import early_resolution_by, plan_stage
from domain.models import Representative, Status
from domain.policy import Policy
from inbound.receive import sender_key
from inbound.store import OPEN_KEY_OWNER, InboundRepository, open_key
from store.audit import AuditRepository
from store.complaints import ComplaintRecord
from store.held_submissions import HeldSubmission, HeldSubmissionRepository

SOURCE = "web"
FLAG = "contact_restricted"

# What the held reference shows once an officer decided the item otherwise than opening a complaint: the
# status and the words a careful council would use (it writes to the person about it, by post where the
# restriction says so). Nothing names another complaint: whoever holds the code may not be the person.
DECIDED: dict[str, tuple[Status, str]] = {
    "dismissed": (
        Status.DECLINED,
        "We have looked at what you sent and we are not taking it forward as a new complaint. We will write"
        " to you to explain why and what you can do next.",
    ),
    "service_request": (
        Status.CLOSED,
        "We have looked at what you sent: it is a request for a service rather than a complaint. We have"
        " passed it to the service, which will contact you.",
    ),
    "linked": (
        Status.CLOSED,
        "We have looked at what you sent and added it to a complaint you have already made. We will write"
        " to you about that complaint.",
    ),
    "escalation_recorded": (
        Status.CLOSED,
        "We have looked at what you sent and taken it as a request to take a complaint you have already made"
        " to the next stage. We will write to you about it.",
    ),
}


def _message_id(reference: str) -> str:
    return f"<web-form-{reference}@complaints.invalid>"


def _as_message(*, name: str, email: str, subject: str, text: str) -> bytes:
    """The form as a message, so the triage item reads like any other (the officer sees the sender's name)."""
    message = EmailMessage()
    message["From"] = formataddr((name, email))
    message["Subject"] = subject
    message.set_content(text)
    return bytes(message)


def planned_dates(policy: Policy, received_at: datetime) -> tuple[date | None, date | None]:
    """The dates a complaint received now is given (as the workflow's first plan): an early-resolution step's
    last day and no acknowledgement, else Stage 1's acknowledgement and response dates."""
    if policy.early_resolution is not None:
        return None, early_resolution_by(policy, received_at)
    planned = plan_stage(policy, 1, received_at)
    return planned.acknowledge_by, planned.respond_by


async def hold(
    services: Services,
    *,
    policy: Policy,
    name: str,
    email: str,
    service_area: str,
    text: str,
    complainant: dict[str, Any],
    summary: str,
    desired_outcome: str,
    tenure: str | None,
    representative: Representative | None,
    request_id: str,
    key_owner: str,
    idempotency_key: str | None,
) -> str:
    """Put the submission in the triage queue, flagged, with what its reference shows; the reference it is
    answered with (a retry of the same submission gets the same one and adds nothing)."""
    received_at = datetime.now(UTC)
    reference = await reference_for(
        services.pool, year=received_at.year, owner=key_owner, key=idempotency_key
    )
    # The reference the sender was given, for the officer: a complaint opened from the item keeps it.
    subject = (
        f"Complaint form ({policy.id}, {service_area}), answered as {reference}: the sender's new online"
        " complaints are restricted"
    )
    raw = _as_message(name=name, email=email, subject=subject, text=text)
    acknowledge_by, respond_by = planned_dates(policy, received_at)
    async with services.pool.acquire() as connection, connection.transaction():
        repository = InboundRepository(connection)
        inbound_id = await repository.store_raw(
            message_id=_message_id(reference),
            source=SOURCE,
            received_at=received_at,
            recipients=[],
            raw=raw,
            sender_key=sender_key(email, services),
        )
        if inbound_id is None:
            return reference  # a retry: held already
        await repository.describe(
            inbound_id,
            sender=email.strip().lower(),
            subject=subject,
            text=text,
            attachments=[],
            kind="message",
            candidate=None,
        )
        await repository.settle(inbound_id, status="triage", flag=FLAG)
        await HeldSubmissionRepository(connection).add(
            reference=reference,
            inbound_id=inbound_id,
            policy_id=policy.id,
            service_area=service_area,
            received_at=received_at,
            acknowledge_by=acknowledge_by,
            respond_by=respond_by,
            complainant=complainant,
            representative=None if representative is None else representative.model_dump(mode="json"),
            summary=summary,
            desired_outcome=desired_outcome,
            tenure=tenure,
        )
        # The triage item's intake key, registered with the held reference: the complaint the officer opens
        # from the item (inbound/triage.py, under the same key) keeps it.
        await connection.execute(
            "INSERT INTO intake_keys (owner, key, reference) VALUES ($1, $2, $3)"
            " ON CONFLICT (owner, key) DO NOTHING",
            OPEN_KEY_OWNER,
            open_key(inbound_id),
            reference,
        )
        await AuditRepository(connection).append(
            actor_id="resident",
            actor_role="resident",
            action="complaint_held_for_triage",
            reference=None,
            request_id=request_id,
            # Codes only: the words and the person stay in the triage item.
            after={
                "inbound_id": str(inbound_id),
                "flag": FLAG,
                "policy_id": policy.id,
                "answered_with": reference,
                "representative": representative is not None,
            },
        )
    return reference


async def held(services: Services, reference: str) -> HeldSubmission | None:
    return await HeldSubmissionRepository(services.pool).get(reference)


def held_record(item: HeldSubmission) -> ComplaintRecord:
    """What the held reference shows, as a case row would hold it for a complaint just received (withdrawn
    by the resident, or as the officer decided: `DECIDED`)."""
    # Withdrawn by the resident first: it stays withdrawn whatever the officer then did with the item (as a
    # complaint withdrawn online does; its triage item can no longer open a complaint: inbound/triage.py).
    status = Status.RECEIVED
    if item.withdrawn_at is not None:
        status = Status.WITHDRAWN
    elif item.decision in DECIDED:
        status = DECIDED[item.decision][0]
    return ComplaintRecord(
        reference=item.reference,
        workflow_id=f"complaint-{item.reference}",
        policy_id=item.policy_id,
        stage=1,
        status=status.value,
        channel="web",
        service_area=item.service_area,
        complainant=item.complainant,
        representative=item.representative,
        anonymous=False,
        summary=item.summary,
        desired_outcome=item.desired_outcome,
        staff_complained_about=[],
        related_to=None,
        assigned_to=None,
        received_at=item.received_at,
        acknowledge_by=item.acknowledge_by,
        respond_by=item.respond_by,
        extension_limit_by=None,
        escalation_request_by=None,
        acknowledged_at=None,
        responded_at=None,
        closed_at=item.withdrawn_at,
        outcome=None,
        overdue=False,
        next_deadline=None,
        state=None,
        last_seq=1,
        tenure=item.tenure,
        created_by="resident",
        created_at=item.created_at,
        updated_at=item.withdrawn_at or item.created_at,
    )


def decided_text(item: HeldSubmission) -> str | None:
    """The words for an item the officer decided without opening a complaint, else None."""
    decided = DECIDED.get(item.decision)
    return None if decided is None or item.withdrawn_at is not None else decided[1]
