"""A new online complaint from someone whose new online complaints are restricted (issue 29, point 11).

The public form's answer must not tell a stranger who types an e-mail address whether that person is under a
contact restriction. So the submission is accepted with the answer any complaint gets (a reference from the
same sequence, an access code of the same form, the same message), but no complaint is opened online: it waits
in the staff triage queue flagged `contact_restricted`, where an officer decides under the restriction (open
a complaint from it, or dismiss it) and writes to the person by post as the restriction says. No link is
e-mailed and the code opens nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr

from api.intake import reference_for
from api.resident.tokens import new_access_code, new_token
from core.services import Services
from domain.models import Representative
from inbound.receive import sender_key
from inbound.store import InboundRepository
from store.audit import AuditRepository

SOURCE = "web"
FLAG = "contact_restricted"


def _message_id(reference: str) -> str:
    return f"<web-form-{reference}@complaints.invalid>"


def _as_message(*, name: str, email: str, subject: str, text: str) -> bytes:
    """The form as a message, so the triage item reads like any other (the officer sees the sender's name)."""
    message = EmailMessage()
    message["From"] = formataddr((name, email))
    message["Subject"] = subject
    message.set_content(text)
    return bytes(message)


async def hold(
    services: Services,
    *,
    policy_id: str,
    name: str,
    email: str,
    service_area: str,
    text: str,
    representative: Representative | None,
    request_id: str,
    key_owner: str,
    idempotency_key: str | None,
) -> str:
    """Put the submission in the triage queue, flagged; the reference it is answered with (a retry of the
    same submission gets the same one and adds nothing)."""
    received_at = datetime.now(UTC)
    reference = await reference_for(
        services.pool, year=received_at.year, owner=key_owner, key=idempotency_key
    )
    subject = (
        f"Complaint form ({policy_id}, {service_area}): the sender's new online complaints are restricted"
    )
    raw = _as_message(name=name, email=email, subject=subject, text=text)
    repository = InboundRepository(services.pool)
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
    await AuditRepository(services.pool).append(
        actor_id="resident",
        actor_role="resident",
        action="complaint_held_for_triage",
        reference=None,
        request_id=request_id,
        # Codes only: the words and the person stay in the triage item.
        after={
            "inbound_id": str(inbound_id),
            "flag": FLAG,
            "policy_id": policy_id,
            "answered_with": reference,
            "representative": representative is not None,
        },
    )
    return reference


async def is_held(services: Services, reference: str) -> bool:
    """Whether `reference` was answered to a held submission (no complaint behind it)."""
    found = await InboundRepository(services.pool).by_message_id(_message_id(reference))
    return found is not None and found.source == SOURCE


def code_that_opens_nothing() -> str:
    """A session secret of the same form as a real one, whose hash is stored nowhere."""
    return new_token()


def access_code_that_opens_nothing() -> str:
    """An access code of the same form as a real one (short, grouped), whose hash is stored nowhere."""
    return new_access_code()
