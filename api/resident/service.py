"""What a resident can do, shared by the public JSON API and the resident pages.

A resident is whoever holds a credential of a complaint, which opens that complaint only: the access code
(shown once when the complaint is made; API clients send it as a bearer token), the one-time code of an
e-mailed link (exchanged for a page session, or by an API client for a new access code) or a page session
(the resident pages' HttpOnly cookie). No code ever travels in a URL except the one-time link code, which
is dead once used. Unknown codes, other complaints' codes and unknown references all look the same (404),
and each counts as a wrong guess; a right code always works (see `ratelimit.py`).

Actions are the workflow's own Updates, sent with a resident actor, so the workflow decides (and explains)
what is possible: a refusal is a 409 problem carrying the workflow's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator
from starlette.datastructures import UploadFile

from api.attachments import store_upload
from api.errors import ProblemError
from api.intake import open_case
from api.resident import withheld
from api.resident.make import notices as made_notices
from api.resident.ratelimit import Limiter, TooMany, email_key
from api.resident.restrictions import new_complaints_restricted, refuse_if_restricted
from api.resident.tokens import MAX_TOKEN_LENGTH, TOKEN_LIFETIME, hash_token, new_token
from api.updates import run_action
from core.services import Services
from domain import commands as cmd
from domain.inputs import CleanInput
from domain.intake_rules import check_representative, with_declared_consent
from domain.models import (
    FINAL_STATUSES,
    Actor,
    Adjustments,
    Channel,
    Complainant,
    ContactPreference,
    Intake,
    Representative,
    ResidentChannel,
    Role,
    Status,
)
from domain.policy import Policy
from domain.tsm import Tenure
from notifications.render import format_date
from store.attachments import AttachmentInfo
from store.audit import AuditRepository, event_key
from store.complaints import ComplaintRecord, ComplaintRepository, NotFound, NotificationRecord
from store.resident_access import Kind, ResidentAccessRepository, TokenRecord

RESIDENT_ROLE = Role.RESIDENT.value

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


class Dates(BaseModel):
    received_on: date
    acknowledge_by: date | None
    respond_by: date | None
    agreed_up_to: date | None = Field(description="The latest response date you agreed to, if any.")
    escalation_request_by: date | None = Field(description="While a review can be asked for: until when.")
    acknowledged_on: date | None
    responded_on: date | None
    closed_on: date | None


class Letter(BaseModel):
    title: str
    template: str
    created_on: date
    sent: bool


class Possible(BaseModel):
    """What the resident may do now (the workflow still has the last word)."""

    send_information: bool
    answer_extension: bool
    ask_for_review: bool
    withdraw: bool


class ResidentComplaintView(BaseModel):
    """What a resident sees of their complaint: never internal notes, staff names or the audit trail."""

    reference: str
    council: str
    stage: int
    stage_name: str
    status: Status
    status_text: str
    outcome: str | None
    service_area: str
    summary: str
    desired_outcome: str
    dates: Dates
    letters: list[Letter]
    possible: Possible


class ResidentAttachment(BaseModel):
    """A file the resident sent, as the answer to the upload."""

    id: str
    filename: str
    content_type: str
    size: int


class EscalationResult(BaseModel):
    accepted: bool
    stage: int
    status: Status
    message: str
    complaint: ResidentComplaintView


class InformationBody(CleanInput):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"summary": "The mould has spread to the hallway."}]},
    )

    summary: str = Field(min_length=1, max_length=10_000)


class ExtensionAnswerBody(CleanInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"agreed": True, "up_to": "2027-01-29"}]})

    agreed: bool
    up_to: date | None = None


class EscalationBody(CleanInput):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"reasons": "The damp has come back.", "outcome_wanted": "A full survey of the flat."}
            ]
        },
    )

    # The Complaint Handling Code (6.12): a resident must not be required to explain why they want Stage 2.
    reasons: str = Field(default="", max_length=10_000)
    outcome_wanted: str = Field(default="", max_length=5_000)


class WithdrawBody(CleanInput):
    model_config = ConfigDict(
        str_strip_whitespace=True, json_schema_extra={"examples": [{"reason": "Sorted out informally."}]}
    )

    reason: str = Field(default="", max_length=5_000)


class AccessLinkRequest(CleanInput):
    email: EmailStr


# How a resident follows a complaint without an e-mailed link (one is never created where it cannot be sent).
NO_LINK = (
    "If you asked us to write to you by post, or no e-mail arrives, sign in with your complaint reference and"
    " the access code you were given when you made the complaint, or contact the council's complaints team:"
    " they will write to you about your complaint."
)
ACCESS_LINK_ANSWER = (
    "If this e-mail address is on the complaint and we write to it by e-mail, we have sent a new link to it."
    f" It can take a few minutes. {NO_LINK}"
)

# ------------------------------------------------------------------------------------------------ views

LETTER_TITLES = {
    "access_link": "Link to track your complaint",
    "complaint_copy": "A copy of your complaint",
    "consent_request": "We need your consent",
    "acknowledgement": "Acknowledgement of your complaint",
    "decline": "Why we cannot take your complaint forward",
    "information_request": "Request for more information",
    "extension": "New date for our response",
    "response": "Our response to your complaint",
    "response_late": "Our response is late",
    "ombudsman_available": "You can now contact the ombudsman",
    "escalation_refused": "Decision on your request for a review",
    "stage2_acknowledgement": "Acknowledgement of your request for a review",
    "stage2_response": "Our response to your request for a review",
    "closure": "Your complaint is closed",
    "withdrawal": "Your complaint is withdrawn",
    "contact_restriction": "How you can contact us",
}


def _day(value: datetime | None, tz: ZoneInfo) -> date | None:
    return None if value is None else value.astimezone(tz).date()


def status_text(record: ComplaintRecord) -> str:
    status = Status(record.status)
    review = "your request for a review" if record.stage > 1 else "your complaint"
    early_resolution = record.stage == 1 and record.acknowledge_by is None and record.respond_by is not None
    if status is Status.RECEIVED and early_resolution and record.respond_by:
        # Early resolution (issue 28): the case row carries its date and no acknowledgement date.
        return f"We aim to resolve your complaint by {_long(record.respond_by)}."
    if status is Status.RECEIVED:
        by = f" by {_long(record.acknowledge_by)}" if record.acknowledge_by else " soon"
        return f"We have received {review}. We will acknowledge it{by}."
    if status is Status.ESCALATION_REQUESTED:
        by = f" by {_long(record.acknowledge_by)}" if record.acknowledge_by else " soon"
        return f"You asked for a review (Stage {record.stage}). We will acknowledge it{by}."
    if status is Status.ACKNOWLEDGED:
        by = f" by {_long(record.respond_by)}" if record.respond_by else ""
        return f"We are looking into {review}. We will send you our response{by}."
    if status is Status.AWAITING_INFORMATION:
        return "We have asked you for more information. Please send it using the form on this page."
    if status is Status.RESPONDED:
        if record.escalation_request_by:
            return (
                "We have sent you our response. If you are not happy with it, you can ask for a review until"
                f" {_long(record.escalation_request_by)}."
            )
        return "We have sent you our response."
    if status is Status.DECLINED:
        return "We could not take your complaint forward. Our letter explains why and where else to go."
    if status is Status.ESCALATION_REFUSED:
        return (
            "We could not accept your request for a review. Our letter explains why and what you can do next."
        )
    if status is Status.WITHDRAWN:
        return "You withdrew your complaint."
    return (
        "Your complaint is closed. If you are still unhappy, our last letter tells you how to contact the"
        " ombudsman."
    )


def _long(day: date) -> str:
    """The GOV.UK way, as in the letters: "Friday 11 December 2026"."""
    return format_date(day)


def long_date(day: date | None) -> str:
    return "" if day is None else _long(day)


def view_of(
    record: ComplaintRecord, notifications: list[NotificationRecord], policy: Policy | None
) -> ResidentComplaintView:
    """The resident's view, built field by field from the read model (nothing internal can slip in)."""
    tz = ZoneInfo(policy.timezone if policy else "Europe/London")
    status = Status(record.status)
    agreed_up_to = record.agreed_up_to()
    window_open = status is Status.RESPONDED and record.escalation_request_by is not None
    try:
        stage_name = policy.stage(record.stage).name if policy else f"Stage {record.stage}"
    except (KeyError, ValueError):
        stage_name = f"Stage {record.stage}"
    letters = [
        Letter(
            title=LETTER_TITLES.get(notice.template, notice.template.replace("_", " ").capitalize()),
            template=notice.template,
            created_on=notice.created_at.astimezone(tz).date(),
            sent=notice.status == "sent",
        )
        for notice in notifications
        if notice.audience == "complainant" and notice.status not in ("skipped", "failed")
    ]
    return ResidentComplaintView(
        reference=record.reference,
        council=policy.name if policy else record.policy_id,
        stage=record.stage,
        stage_name=stage_name,
        status=status,
        status_text=status_text(record),
        outcome=record.outcome,
        service_area=record.service_area,
        summary=record.summary,
        desired_outcome=record.desired_outcome,
        dates=Dates(
            received_on=record.received_at.astimezone(tz).date(),
            acknowledge_by=record.acknowledge_by,
            respond_by=record.respond_by,
            agreed_up_to=agreed_up_to,
            escalation_request_by=record.escalation_request_by if window_open else None,
            acknowledged_on=_day(record.acknowledged_at, tz),
            responded_on=_day(record.responded_at, tz),
            closed_on=_day(record.closed_at, tz),
        ),
        letters=letters,
        possible=Possible(
            send_information=status not in FINAL_STATUSES,
            answer_extension=status in (Status.ACKNOWLEDGED, Status.AWAITING_INFORMATION),
            ask_for_review=window_open,
            withdraw=status not in FINAL_STATUSES,
        ),
    )


# ----------------------------------------------------------------------------------------------- access


@dataclass(frozen=True)
class ResidentAccess:
    """A resident who proved access to one complaint (with an access code, or a page session)."""

    record: ComplaintRecord
    token_id: int

    @property
    def actor(self) -> Actor:
        name = self.record.complainant.get("name") or ""
        return Actor(id="resident", role=Role.RESIDENT, name=str(name))


NOT_FOUND_DETAIL = "no complaint with this reference for this access token"
EXPIRED_DETAIL = "this access token has expired or was withdrawn: ask for a new link by e-mail"
SESSION_ENDED_DETAIL = "you were signed out, or your session ended: sign in again"
USED_DETAIL = "this link has been used already (a link works once): ask for a new link by e-mail"


def _limiter(services: Services) -> Limiter:
    return Limiter(ResidentAccessRepository(services.pool), services.settings)


async def _credential(
    services: Services,
    *,
    reference: str,
    secret: str | None,
    kinds: tuple[Kind, ...],
    client_ip: str,
) -> TokenRecord:
    """The live credential `secret` of complaint `reference`, of one of `kinds`. The right one always
    passes, whatever was tried before; only a wrong one is counted, and refused with 429 once too many
    were tried (for this complaint or from this address), 404 before that (the same answer whether or not
    the reference exists); an expired, revoked or used one is 401."""
    if not secret:
        raise ProblemError(401, "Not authenticated", "an access token is required")
    repository = ResidentAccessRepository(services.pool)
    found = None if len(secret) > MAX_TOKEN_LENGTH else await repository.find(token_hash=hash_token(secret))
    if found is None or found.reference != reference or found.kind not in kinds:
        await _limiter(services).wrong_code(client_ip=client_ip, reference=reference)
        raise ProblemError(404, "Not found", NOT_FOUND_DETAIL)
    if not found.usable_at(await repository.now()):
        if found.kind == "session":
            raise ProblemError(401, "Not authenticated", SESSION_ENDED_DETAIL, "session-ended")
        used = found.kind == "link" and found.used_at is not None and found.revoked_at is None
        raise ProblemError(
            401,
            "Not authenticated",
            USED_DETAIL if used else EXPIRED_DETAIL,
            "link-used" if used else "token-expired",
        )
    return found


async def _access(services: Services, reference: str, token_id: int) -> ResidentAccess:
    await ResidentAccessRepository(services.pool).touch(token_id=token_id)
    record = await ComplaintRepository(services.pool).get(reference=reference)
    return ResidentAccess(record=record, token_id=token_id)


async def authenticate(
    services: Services, *, reference: str, token: str | None, client_ip: str
) -> ResidentAccess:
    """The complaint this access code (an API client's bearer token) opens, if it is `reference`."""
    found = await _credential(
        services, reference=reference, secret=token, kinds=("access",), client_ip=client_ip
    )
    return await _access(services, reference, found.id)


async def _use_once(services: Services, found: TokenRecord) -> None:
    if found.kind == "link" and not await ResidentAccessRepository(services.pool).use_once(token_id=found.id):
        raise ProblemError(401, "Not authenticated", USED_DETAIL, "link-used")


async def open_session(
    services: Services, *, reference: str, code: str | None, client_ip: str
) -> tuple[ResidentAccess, str]:
    """Sign in to the resident pages with an access code (typed in) or the one-time code of an e-mailed link
    (used up here): a new page session, whose secret goes in the HttpOnly cookie (never a code)."""
    found = await _credential(
        services, reference=reference, secret=code, kinds=("access", "link"), client_ip=client_ip
    )
    await _use_once(services, found)
    secret = new_token()
    lifetime = timedelta(hours=services.settings.resident_session_hours)
    session = await ResidentAccessRepository(services.pool).issue(
        reference=reference, token_hash=hash_token(secret), lifetime=lifetime, kind="session"
    )
    return await _access(services, reference, session.id), secret


async def session_access(
    services: Services, *, reference: str, session: str | None, client_ip: str
) -> ResidentAccess:
    """The complaint a page session (the cookie's secret) opens, if it is `reference`. A live session of
    another complaint is a plain 404, not a wrong guess: the browser was signed in to that one."""
    if session and len(session) <= MAX_TOKEN_LENGTH:
        found = await ResidentAccessRepository(services.pool).find(token_hash=hash_token(session))
        if found is not None and found.kind == "session" and found.reference != reference:
            raise ProblemError(404, "Not found", NOT_FOUND_DETAIL)
    found = await _credential(
        services, reference=reference, secret=session, kinds=("session",), client_ip=client_ip
    )
    return await _access(services, reference, found.id)


class AccessCodeExchange(CleanInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "the code from the e-mailed link"}]})

    code: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH, description="The `code` of the link.")


class AccessToken(BaseModel):
    access_token: str = Field(description="Shown once: it opens this complaint only.")
    access_token_expires_at: datetime


async def exchange_link_code(services: Services, *, reference: str, code: str, client_ip: str) -> AccessToken:
    """For API clients: the one-time code of an e-mailed link, used up for a new access code."""
    found = await _credential(
        services, reference=reference, secret=code, kinds=("link",), client_ip=client_ip
    )
    await _use_once(services, found)
    token, expires_at = await _issue_access_code(services, reference)
    return AccessToken(access_token=token, access_token_expires_at=expires_at)


async def view(services: Services, access: ResidentAccess) -> ResidentComplaintView:
    repository = ComplaintRepository(services.pool)
    record = await repository.get(reference=access.record.reference)
    notifications = await repository.notifications(reference=record.reference)
    return view_of(record, notifications, services.policies.get(record.policy_id))


async def _issue_access_code(services: Services, reference: str) -> tuple[str, datetime]:
    token = new_token()
    issued = await ResidentAccessRepository(services.pool).issue(
        reference=reference, token_hash=hash_token(token), lifetime=TOKEN_LIFETIME, kind="access"
    )
    return token, issued.expires_at


def link_base(services: Services, reference: str) -> str:
    """The e-mailed link without its code (the code is drawn when the message goes out: see
    notifications/link_codes.py). The host comes from configuration, never from the request's Host header
    (a forged Host would otherwise send a live code to someone else's site)."""
    settings = services.settings
    base = settings.public_base_url or f"http://{settings.api_host}:{settings.api_port}"
    return f"{str(base).rstrip('/')}/complaint/track?{urlencode({'reference': reference})}"


def can_email_link(services: Services, record: ComplaintRecord, recipient: str) -> bool:
    """Whether a link to `recipient` can go by e-mail: not when e-mail is off, nor to a complainant who asked
    to be written to by post (a link nobody can be sent is never created)."""
    if services.settings.notification_channel == "none" or record.anonymous:
        return False
    representative = record.representative or {}
    to_representative = bool(representative.get("consent_recorded")) and (
        str(representative.get("email") or "").strip().lower() == recipient.strip().lower()
    )
    preferred = str(record.complainant.get("preferred_contact") or "email")
    return to_representative or preferred == "email"


async def _send_link(
    services: Services, record: ComplaintRecord, recipient: str, *, first: bool = False
) -> bool:
    """E-mail a link with a one-time code (through the outbox); False, and nothing created, when it cannot
    go by e-mail. The outbox row holds no code: it is drawn when the message is sent."""
    if not can_email_link(services, record, recipient):
        return False
    repository = ResidentAccessRepository(services.pool)
    lifetime = timedelta(days=services.settings.resident_link_days)
    # Armed with the hash of a secret nobody keeps: it opens nothing until the message goes out.
    issued = await repository.issue(
        reference=record.reference, token_hash=hash_token(new_token()), lifetime=lifetime, kind="link"
    )
    policy = services.policies.get(record.policy_id)
    await repository.queue_access_link(
        token_id=issued.id,
        reference=record.reference,
        workflow_id=record.workflow_id,
        recipient=recipient,
        context={
            "reference": record.reference,
            "link_base": link_base(services, record.reference),
            "token_id": issued.id,
            "expires_on": issued.expires_at.astimezone(ZoneInfo("Europe/London")).date().isoformat(),
            "once": True,
            "stage": record.stage,
            "policy": policy.name if policy else record.policy_id,
        }
        | (_made_for_you(record, recipient) if first else {}),
    )
    return True


def _made_for_you(record: ComplaintRecord, recipient: str) -> dict[str, Any]:
    """For the complainant's link when someone else made the complaint for them (issue 30): who made it, and
    whether their written consent is still needed; the e-mail then says what to do if they did not agree,
    never "if you did not make a complaint, ignore this e-mail"."""
    representative = record.representative or {}
    complainant_email = str(record.complainant.get("email") or "").strip().lower()
    if not representative or recipient.strip().lower() != complainant_email:
        return {}
    return {
        "addressed_to": "complainant",
        "made_by": str(representative.get("name") or "someone"),
        "consent_pending": not representative.get("consent_recorded"),
    }


async def create(
    services: Services,
    body: PublicComplaintCreate,
    request_id: str,
    *,
    client_ip: str,
    idempotency_key: str | None = None,
) -> PublicComplaintCreated:
    """Make a complaint, limited per client address and per e-mail address (429 past the allowance)."""
    policy = services.policies.get(body.policy_id)
    if policy is None:
        raise ProblemError(422, "Invalid request", f"policy_id: unknown council {body.policy_id!r}")
    received_at = datetime.now(UTC)
    representative = representative_for(policy, body.representative, received_at)
    await _limiter(services).complaint_made(client_ip=client_ip, email=body.maker_email())
    # A person whose new online complaints are restricted cannot make one as someone's representative either.
    # Issue 29 (11): they get the answer anyone gets, so the form tells no stranger who is restricted; the
    # submission waits for staff in triage, flagged, and no complaint is opened online.
    people = [body.email] + ([representative.email] if representative and representative.email else [])
    for email in people:
        if email and await new_complaints_restricted(services, policy_id=body.policy_id, email=str(email)):
            held_for = str(email)
            return await _held(services, body, policy, representative, request_id, idempotency_key, held_for)
    intake = Intake(
        policy_id=body.policy_id,
        received_at=received_at,
        channel=Channel.WEB,
        complainant=Complainant(
            name=body.name,
            email=body.email,
            phone=body.phone or None,
            address=body.address or None,
            # Without an e-mail address, the council writes by post where it has an address, else phones.
            preferred_contact=ContactPreference.EMAIL
            if body.email or not (body.address or body.phone)
            else (ContactPreference.LETTER if body.address else ContactPreference.PHONE),
            adjustments=body.adjustments,
        ),
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
    link_sent = bool(body.email) and await _send_link(services, record, str(body.email), first=True)
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
    return created_answer(
        reference, token, expires_at, link_sent=link_sent, for_someone_else=representative is not None
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
    restricted person's address (the complainant's, or the representative's)."""
    facts = [
        body.summary,
        f"What they would like us to do: {body.desired_outcome}" if body.desired_outcome else "",
        f"Name: {body.name}",
        f"Phone: {body.phone}" if body.phone else "",
        f"Address: {body.address}" if body.address else "",
        f"Representative: {representative.name} ({representative.kind})" if representative else "",
    ]
    reference = await withheld.hold(
        services,
        policy_id=body.policy_id,
        name=body.name,
        email=email,
        service_area=policy.area_for(body.service_area),
        text="\n\n".join(fact for fact in facts if fact),
        representative=representative,
        request_id=request_id,
        key_owner=f"resident:{email_key(body.maker_email())}",
        idempotency_key=idempotency_key,
    )
    return _held_answer(
        services,
        reference,
        consent_pending=representative is not None and not representative.consent_recorded,
        for_someone_else=representative is not None,
    )


def _held_answer(
    services: Services, reference: str, *, consent_pending: bool, for_someone_else: bool = False
) -> PublicComplaintCreated:
    if consent_pending:
        token, expires_at = None, None
    else:
        token, expires_at = withheld.code_that_opens_nothing(), datetime.now(UTC) + TOKEN_LIFETIME
    # As for a complaint: "we have e-mailed you a link" whenever e-mail is on (none is sent here).
    link_sent = services.settings.notification_channel != "none"
    return created_answer(
        reference, token, expires_at, link_sent=link_sent, for_someone_else=for_someone_else
    )


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
    return await _issue_access_code(services, record.reference)


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
    if await withheld.is_held(services, str(stored["reference"])):
        pending = stored.get("access_token_expires_at") is None
        # The first answer's words say whether it was made for someone else (held: no case row to read).
        for_someone = "the person it is for" in str(stored.get("message") or "")
        held = _held_answer(
            services, str(stored["reference"]), consent_pending=pending, for_someone_else=for_someone
        )
        return held.model_dump(mode="json")
    record = await ComplaintRepository(services.pool).get(reference=str(stored["reference"]))
    token, expires_at = await _code_for_maker(services, record)
    answer = created_answer(
        record.reference, token, expires_at, for_someone_else=record.representative is not None
    )
    return answer.model_dump(mode="json")


def without_code(answer: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a creation's answer for a retry: everything but the access code."""
    return {key: value for key, value in answer.items() if key != "access_token"}


async def request_access_link(services: Services, *, reference: str, email: str, client_ip: str) -> None:
    """Queue a new access link when `email` is the complainant's (or their consented representative's).
    Limited per client address and per e-mail address (429, whether or not anything matched); the caller
    otherwise answers the same way whether or not anything matched."""
    limiter = _limiter(services)
    await limiter.link_requested(client_ip=client_ip)
    repository = ComplaintRepository(services.pool)
    try:
        record = await repository.get(reference=reference)
    except NotFound:
        return
    wanted = email.strip().lower()
    addresses = [record.complainant.get("email")]
    representative = record.representative or {}
    if representative.get("consent_recorded"):
        addresses.append(representative.get("email"))
    recipient = next((str(a) for a in addresses if a and str(a).strip().lower() == wanted), None)
    if recipient is None or record.anonymous:
        return
    if not await limiter.allow_link_for(reference, recipient):
        return
    await _send_link(services, record, recipient)


async def revoke(services: Services, access: ResidentAccess, *, every: bool) -> None:
    repository = ResidentAccessRepository(services.pool)
    if every:
        await repository.revoke_all(reference=access.record.reference)
    else:
        await repository.revoke(token_id=access.token_id)


# ---------------------------------------------------------------------------------------------- actions


async def _refuse_if_restricted(services: Services, access: ResidentAccess, channel: ResidentChannel) -> None:
    record = access.record
    await refuse_if_restricted(
        services,
        channel,
        policy_id=record.policy_id,
        reference=record.reference,
        email=record.complainant.get("email"),
    )


async def act(
    services: Services,
    access: ResidentAccess,
    action: str,
    command: cmd.Command,
    request_id: str,
    request: dict[str, Any],
) -> ComplaintRecord:
    """Run one resident action as the workflow's Update; a refusal is a 409 problem with its reason."""
    before = access.record
    receipt = await run_action(action, command, before, services.temporal, pool=services.pool)
    after = await ComplaintRepository(services.pool).get(reference=before.reference)
    await AuditRepository(services.pool).append(
        actor_id="resident",
        actor_role=RESIDENT_ROLE,
        action=action,
        reference=before.reference,
        request_id=request_id,
        before={"status": before.status, "stage": before.stage, "seq": before.last_seq},
        after={"status": after.status, "stage": after.stage, "seq": after.last_seq, "request": request},
        once_key=event_key(before.reference, action, receipt.seq),
    )
    return after


_MESSAGES_LIMITED = """
INSERT INTO notifications (id, reference, workflow_id, seq, template, audience, recipient, context)
VALUES ($1, $2, $3, -1, 'messages_limited', 'staff', $4, $5)
ON CONFLICT (id) DO NOTHING
"""


async def _within_daily_limit(services: Services, access: ResidentAccess) -> None:
    """Messages and files sent online per complaint per day (RESIDENT_MESSAGES_PER_DAY): past it, 429 with
    Retry-After; the officer is told once that day (one outbox message, keyed by the day), not per refusal."""
    record = access.record
    try:
        await _limiter(services).resident_wrote(reference=record.reference)
    except TooMany as refused:
        if refused.first:
            day = (await ResidentAccessRepository(services.pool).now()).date().isoformat()
            context = {
                "reference": record.reference,
                "stage": record.stage,
                "allowed": services.settings.resident_messages_per_day,
            }
            await services.pool.execute(
                _MESSAGES_LIMITED,
                f"messages-limited:{record.reference}:{day}",
                record.reference,
                record.workflow_id,
                record.assigned_to or "complaints-team",
                context,
            )
        raise


async def send_information(
    services: Services, access: ResidentAccess, body: InformationBody, request_id: str
) -> ComplaintRecord:
    await _refuse_if_restricted(services, access, ResidentChannel.MESSAGES)
    await _within_daily_limit(services, access)
    command = cmd.AddInformation(actor=access.actor, summary=body.summary)
    return await act(services, access, "add_information", command, request_id, {"length": len(body.summary)})


async def answer_extension(
    services: Services, access: ResidentAccess, body: ExtensionAnswerBody, request_id: str
) -> ComplaintRecord:
    if body.agreed and body.up_to is None:
        raise ProblemError(422, "Invalid request", "up_to: the latest date you agree to is needed")
    command = cmd.RecordExtensionAgreement(actor=access.actor, agreed=body.agreed, up_to=body.up_to)
    return await act(
        services, access, "record_extension_agreement", command, request_id, body.model_dump(mode="json")
    )


async def ask_for_review(
    services: Services, access: ResidentAccess, body: EscalationBody, request_id: str
) -> ComplaintRecord:
    command = cmd.RequestEscalation(
        actor=access.actor, reasons=body.reasons, outcome_wanted=body.outcome_wanted
    )
    detail = {"stage": access.record.stage}
    return await act(services, access, "request_escalation", command, request_id, detail)


async def withdraw(
    services: Services, access: ResidentAccess, body: WithdrawBody, request_id: str
) -> ComplaintRecord:
    command = cmd.Withdraw(actor=access.actor, reason=body.reason)
    return await act(services, access, "withdraw", command, request_id, {})


async def send_evidence(
    services: Services, access: ResidentAccess, upload: UploadFile, request_id: str
) -> AttachmentInfo:
    """A file the resident sends as evidence: stored with the complaint and audited (hash and size only)."""
    await _refuse_if_restricted(services, access, ResidentChannel.EVIDENCE)
    await _within_daily_limit(services, access)
    return await store_upload(
        services.pool,
        reference=access.record.reference,
        upload=upload,
        settings=services.settings,
        actor_id="resident",
        actor_role=RESIDENT_ROLE,
        request_id=request_id,
    )
