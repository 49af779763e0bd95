"""What a resident can do, shared by the public JSON API and the resident pages: making a complaint here; the
rest, one job a module, re-exported so callers keep one name for the resident's service:
`access.py` (codes, links and page sessions), `view.py` (what the resident sees), `actions.py` (what they
do on their complaint through the workflow) and `bodies.py` (what they send and are answered with).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from api.errors import ProblemError
from api.intake import open_case
from api.resident import withheld
from api.resident.access import (
    ACCESS_LINK_ANSWER,
    NO_LINK,
    RESIDENT_ROLE,
    ResidentAccess,
    authenticate,
    can_email_link,
    emailed_to,
    exchange_link_code,
    issue_access_code,
    limiter,
    link_base,
    open_session,
    request_access_link,
    revoke,
    send_link,
    session_access,
)
from api.resident.actions import answer_extension, ask_for_review, send_evidence, send_information, withdraw
from api.resident.answer_timing import AnswerTiming
from api.resident.bodies import (
    AccessCodeExchange,
    AccessLinkRequest,
    AccessToken,
    Dates,
    EscalationBody,
    EscalationResult,
    ExtensionAnswerBody,
    InformationBody,
    Letter,
    Possible,
    ResidentAttachment,
    ResidentComplaintView,
    WithdrawBody,
)
from api.resident.make import notices as made_notices
from api.resident.ratelimit import email_key
from api.resident.restrictions import new_complaints_restricted
from api.resident.view import LETTER_TITLES, long_date, status_text, view, view_of
from core.services import Services
from domain.inputs import CleanInput
from domain.intake_rules import check_representative, with_declared_consent
from domain.models import (
    Actor,
    Adjustments,
    Channel,
    Complainant,
    ContactPreference,
    Intake,
    Representative,
    Role,
)
from domain.policy import Policy
from domain.tsm import Tenure
from store.audit import AuditRepository
from store.complaints import ComplaintRecord, ComplaintRepository, NotFound

__all__ = [
    "ACCESS_LINK_ANSWER",
    "LETTER_TITLES",
    "NO_LINK",
    "AccessCodeExchange",
    "AccessLinkRequest",
    "AccessToken",
    "Dates",
    "EscalationBody",
    "EscalationResult",
    "ExtensionAnswerBody",
    "InformationBody",
    "Letter",
    "Possible",
    "PublicComplaintCreate",
    "PublicComplaintCreated",
    "PublicRepresentative",
    "ResidentAccess",
    "ResidentAttachment",
    "ResidentComplaintView",
    "WithdrawBody",
    "answer_extension",
    "ask_for_review",
    "authenticate",
    "can_email_link",
    "create",
    "emailed_to",
    "created_again",
    "created_answer",
    "exchange_link_code",
    "link_base",
    "long_date",
    "open_session",
    "representative_for",
    "request_access_link",
    "revoke",
    "send_evidence",
    "send_information",
    "session_access",
    "status_text",
    "view",
    "view_of",
    "withdraw",
    "without_code",
]

# ----------------------------------------------------------------------------------------------- models


class PublicRepresentative(CleanInput):
    """Someone making the complaint for the complainant (a relative, a friend, an advocate...). They must
    declare that they have the complainant's consent; where the council needs it in writing, it asks for
    it, and until staff record it the council writes to the complainant, not to the representative."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, description="The representative's name.")
    email: EmailStr | None = Field(default=None, description="The representative's e-mail (or a phone).")
    phone: str | None = Field(default=None, max_length=40)
    kind: str = Field(
        min_length=1,
        max_length=40,
        description="One of the council's representative kinds (GET /api/policies/{id}: family, friend...)",
    )
    relationship: str = Field(default="", max_length=200, description="For example: her son, my neighbour.")
    consent_declared: bool = Field(
        description="Must be true: I have the complainant's consent to act for them."
    )

    @field_validator("consent_declared")
    @classmethod
    def _declared(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the representative must declare that they have the complainant's consent")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> PublicRepresentative:
        if not (self.email or self.phone):
            raise ValueError("an e-mail address or a phone number for the representative is needed")
        return self

    def as_representative(self) -> Representative:
        """Consent not yet on file: `intake_rules.with_declared_consent` decides what the declaration puts
        there under the council's policy."""
        return Representative(
            name=self.name,
            relationship=self.relationship,
            email=self.email,
            phone=self.phone or None,
            kind=self.kind,
            consent_recorded=False,
        )


class PublicComplaintCreate(CleanInput):
    """A complaint made by a resident. A name is needed, and a way to reach someone about it: the
    complainant's e-mail address (the access link goes there), phone or postal address, or, for a complaint
    made for someone else (who often has no e-mail address), the representative's e-mail or phone."""

    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "policy_id": "bexley",
                    "name": "Ada Resident",
                    "email": "ada@example.org",
                    "service_area": "housing-repairs",
                    "summary": "Damp in the bedroom reported three times and not fixed.",
                    "desired_outcome": "Fix the damp.",
                }
            ]
        },
    )

    policy_id: str = Field(min_length=1, max_length=64, description="The council (its policy id).")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = Field(
        default=None, description="The complainant's e-mail address (needed unless another contact is given)."
    )
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(
        default=None,
        max_length=500,
        description="Optional: needed for letters in braille or audio, sent by post.",
    )
    service_area: str = Field(default="general", min_length=1, max_length=100)
    summary: str = Field(min_length=1, max_length=10_000, description="What went wrong.")
    desired_outcome: str = Field(default="", max_length=5_000, description="What you would like us to do.")
    adjustments: Adjustments | None = Field(
        default=None,
        description="Optional: what you need from us (large print, an interpreter, an advocate...)",
    )
    representative: PublicRepresentative | None = Field(
        default=None,
        description="Optional: who makes the complaint for the complainant (name, email and phone above are"
        " the complainant's), where the council accepts representatives.",
    )
    tenure: Tenure | None = Field(
        default=None,
        description="Optional: your home's tenure (low_cost_rental: you rent from us;"
        " low_cost_home_ownership: shared ownership; leaseholder; other; not_a_tenant).",
    )

    @model_validator(mode="after")
    def _contactable(self) -> PublicComplaintCreate:
        representative = self.representative
        if not (
            self.email
            or self.phone
            or self.address
            or (representative is not None and (representative.email or representative.phone))
        ):
            raise ValueError(NO_CONTACT)
        return self

    def maker_email(self) -> str:
        """The address of whoever made the complaint (the representative's, else the complainant's; "" for
        none): what the limits and a retry's key are counted by."""
        by = self.representative.email if self.representative else None
        return str(by or self.email or "")


NO_CONTACT = (
    "email: an e-mail address (or a phone number or a postal address) is needed, so that the council"
    " can reply"
)


class PublicComplaintCreated(BaseModel):
    reference: str
    access_token: str | None = Field(
        description="Shown once, never again: it opens this complaint only. A link is also e-mailed. None"
        " when a representative made it and the council needs the complainant's written consent first: only"
        " the complainant's e-mailed link opens it until staff record that consent."
    )
    access_token_expires_at: datetime | None
    message: str


async def create(
    services: Services,
    body: PublicComplaintCreate,
    request_id: str,
    *,
    client_ip: str,
    timing: AnswerTiming,
    idempotency_key: str | None = None,
) -> PublicComplaintCreated:
    """Make a complaint, limited per client address and per e-mail address (429 past the allowance).
    `timing`: a held answer is sent no sooner than a normal one (api/resident/answer_timing.py)."""
    started = timing.started()
    policy = services.policies.get(body.policy_id)
    if policy is None:
        raise ProblemError(422, "Invalid request", f"policy_id: unknown council {body.policy_id!r}")
    received_at = datetime.now(UTC)
    representative = representative_for(policy, body.representative, received_at)
    await limiter(services).complaint_made(client_ip=client_ip, email=body.maker_email())
    # A person whose new online complaints are restricted cannot make one as someone's representative either.
    # Issue 29 (11): they get the answer anyone gets, so the form tells no stranger who is restricted; the
    # submission waits for staff in triage, flagged, and no complaint is opened online.
    people = [body.email] + ([representative.email] if representative and representative.email else [])
    for email in people:
        if email and await new_complaints_restricted(services, policy_id=body.policy_id, email=str(email)):
            held_for = str(email)
            answer = await _held(
                services, body, policy, representative, request_id, idempotency_key, held_for
            )
            await timing.held_answered(started)
            return answer
    intake = Intake(
        policy_id=body.policy_id,
        received_at=received_at,
        channel=Channel.WEB,
        complainant=complainant_of(body),
        representative=representative,
        # One of the council's areas: anything else goes to its default area, for triage (free text from a
        # resident would escape every area-limited team and reach the search attributes and the reports).
        service_area=policy.area_for(body.service_area),
        summary=body.summary,
        desired_outcome=body.desired_outcome,
        tenure=body.tenure,
    )
    actor = Actor(id="resident", role=Role.RESIDENT, name=body.name)
    reference = await open_case(
        pool=services.pool,
        temporal=services.temporal,
        task_queue=services.settings.task_queue,
        policy=policy,
        intake=intake,
        actor=actor,
        # A retry after an outage opens the same complaint, never a second one.
        idempotency_key=idempotency_key,
        key_owner=f"resident:{email_key(body.maker_email())}",
    )
    record = await ComplaintRepository(services.pool).get(reference=reference)
    token, expires_at = await _code_for_maker(services, record)
    link_sent = bool(body.email) and await send_link(services, record, str(body.email), first=True)
    await made_notices.queue(services, record, policy)
    await AuditRepository(services.pool).append(
        actor_id="resident",
        actor_role=RESIDENT_ROLE,
        action="create",
        reference=reference,
        request_id=request_id,
        after={
            "channel": "web",
            "policy_id": body.policy_id,
            "service_area": policy.area_for(body.service_area),
            # Codes only: the representative's name and contact details stay on the case record.
            "representative": None
            if representative is None
            else {"kind": representative.kind, "consent_recorded": representative.consent_recorded},
        },
        once_key=f"create:{reference}",  # a retry that opened the same complaint is recorded once
    )
    timing.normal_answered(started)
    return created_answer(
        reference, token, expires_at, link_sent=link_sent, for_someone_else=representative is not None
    )


def complainant_of(body: PublicComplaintCreate) -> Complainant:
    return Complainant(
        name=body.name,
        email=body.email,
        phone=body.phone or None,
        address=body.address or None,
        # Without an e-mail address, the council writes by post where it has an address, else phones.
        preferred_contact=ContactPreference.EMAIL
        if body.email or not (body.address or body.phone)
        else (ContactPreference.LETTER if body.address else ContactPreference.PHONE),
        adjustments=body.adjustments,
    )


async def _held(
    services: Services,
    body: PublicComplaintCreate,
    policy: Policy,
    representative: Representative | None,
    request_id: str,
    idempotency_key: str | None,
    email: str,
) -> PublicComplaintCreated:
    """The answer a complaint gets, for a submission held in triage (api/resident/withheld.py); `email`: the
    restricted person's address (the complainant's, or the representative's). Its access code is real (only
    its hash is kept): it opens what a complaint just received shows, until an officer decides the item."""
    facts = [
        body.summary,
        f"What they would like us to do: {body.desired_outcome}" if body.desired_outcome else "",
        f"Name: {body.name}",
        f"Phone: {body.phone}" if body.phone else "",
        f"Address: {body.address}" if body.address else "",
        f"Representative: {representative.name} ({representative.kind})" if representative else "",
    ]
    complainant = complainant_of(body)
    reference = await withheld.hold(
        services,
        policy=policy,
        name=body.name,
        email=email,
        service_area=policy.area_for(body.service_area),
        text="\n\n".join(fact for fact in facts if fact),
        complainant=complainant.model_dump(mode="json"),
        summary=body.summary,
        desired_outcome=body.desired_outcome,
        tenure=None if body.tenure is None else str(body.tenure),
        representative=representative,
        request_id=request_id,
        key_owner=f"resident:{email_key(body.maker_email())}",
        idempotency_key=idempotency_key,
    )
    item = await withheld.held(services, reference)
    assert item is not None  # just held, in its own transaction
    record = withheld.held_record(item)
    # As for a complaint: a code for whoever made it, the link e-mailed to the complainant and the copy to
    # the maker (the same messages, so neither the answer nor the view tells that it was held).
    token, expires_at = await _code_for_maker(services, record)
    link_sent = bool(body.email) and await send_link(services, record, str(body.email), first=True, held=True)
    await made_notices.queue(services, record, policy, held=True)
    return created_answer(
        reference, token, expires_at, link_sent=link_sent, for_someone_else=representative is not None
    )


async def _held_again(services: Services, reference: str, stored: dict[str, Any]) -> dict[str, Any]:
    """A retried submission held in triage: its first answer's complaint and a new access code."""
    item = await withheld.held(services, reference)
    if item is None:
        raise NotFound(reference)
    token, expires_at = await _code_for_maker(services, withheld.held_record(item))
    answer = created_answer(reference, token, expires_at, for_someone_else=item.representative is not None)
    return answer.model_dump(mode="json")


def representative_for(
    policy: Policy, sent: PublicRepresentative | None, received_at: datetime
) -> Representative | None:
    """The representative named on the public form, with what their declaration puts on file; a policy
    that refuses them (or their kind) is a 422 naming the field."""
    if sent is None:
        return None
    declared_on = received_at.astimezone(ZoneInfo(policy.timezone)).date()
    representative = with_declared_consent(policy, sent.as_representative(), declared_on)
    problem = check_representative(policy, representative, consent_may_follow=True)
    if problem:
        raise ProblemError(422, "Invalid request", problem)
    return representative


def consent_pending(record: ComplaintRecord) -> bool:
    """Named as representative, but the complainant's consent is not on file yet (written consent to come)."""
    return record.representative is not None and not record.representative.get("consent_recorded")


async def _code_for_maker(services: Services, record: ComplaintRecord) -> tuple[str | None, datetime | None]:
    """An access code for whoever made the complaint; none for a representative whose consent is still to
    come (the complaint, its letters and the council's answer are the complainant's until then)."""
    if consent_pending(record):
        return None, None
    return await issue_access_code(services, record.reference)


def created_answer(
    reference: str,
    token: str | None,
    expires_at: datetime | None,
    *,
    link_sent: bool = True,
    for_someone_else: bool = False,
) -> PublicComplaintCreated:
    if token is not None and for_someone_else:
        # Consent on file: the link went to the person the complaint is for, never to the representative.
        e_mailed = (
            " We have e-mailed the person it is for a link to track it, and told them you made it for them."
            if link_sent
            else ""
        )
        message = (
            f"Your complaint reference is {reference}.{e_mailed} Keep the access code safe: it is shown only"
            " once, and it is how you follow the complaint online."
        )
    elif token is None:
        e_mailed = " and we have e-mailed them a link to track the complaint" if link_sent else ""
        message = (
            f"Your complaint reference is {reference}. The council needs the complainant's written consent"
            f" for you to act for them: it will ask them for it. Until then it writes to them{e_mailed}."
        )
    elif link_sent:
        message = (
            f"Your complaint reference is {reference}. We have e-mailed you a link to track it. Keep the"
            " access code safe: it is shown only once."
        )
    else:
        message = (
            f"Your complaint reference is {reference}. We cannot e-mail you a link to track it: keep the"
            f" access code safe, it is shown only once and is how you follow your complaint online. {NO_LINK}"
        )
    return PublicComplaintCreated(
        reference=reference, access_token=token, access_token_expires_at=expires_at, message=message
    )


async def created_again(services: Services, stored: dict[str, Any]) -> dict[str, Any]:
    """A retried creation (same Idempotency-Key, same body) answers with the first answer's complaint and a
    new access code: the first one was never stored in clear, so it cannot be shown again."""
    try:
        record = await ComplaintRepository(services.pool).get(reference=str(stored["reference"]))
    except NotFound:
        return await _held_again(services, str(stored["reference"]), stored)
    token, expires_at = await _code_for_maker(services, record)
    answer = created_answer(
        record.reference, token, expires_at, for_someone_else=record.representative is not None
    )
    return answer.model_dump(mode="json")


def without_code(answer: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a creation's answer for a retry: everything but the access code."""
    return {key: value for key, value in answer.items() if key != "access_token"}
