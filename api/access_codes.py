"""A new access code for a resident, issued by staff (`POST /api/complaints/{reference}/access-code`, the
console's "Send a new access code").

An access code lives 90 days (api/resident/tokens.py). A resident with e-mail asks for a new link on the
website; one who is written to by post (no e-mail address, letters asked for, e-mail off) has no way back
online but the complaints team, who issue one here. The same rules as every letter decide who gets it and
how (notifications/delivery.resident_address): the complainant, or their representative once consent is on
file (the person the access model gives a code to at intake); by e-mail where the letter would be e-mailed,
else by post. Every earlier code, link and page session of the complaint is withdrawn first.

The code exists in clear only in the message that carries it: by e-mail it is drawn when the e-mail goes out
(notifications/link_codes.py); by post it is drawn now and shown once, in the letter the staff member prints
(the outbox row, left for the post as every posted letter is, holds no code). The audit row says who issued
a code on which complaint, when, and how it went; never the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from api.errors import ProblemError
from api.letter_preview import PreviewLetter, render_as_delivered
from api.resident.access import track_url
from api.resident.tokens import TOKEN_LIFETIME, hash_token, new_access_code, new_token
from core.services import Services
from notifications.delivery import DeliveryOptions, why_by_post
from notifications.link_codes import ACCESS_CODE
from notifications.render import RenderError
from store.audit import AuditRepository
from store.complaints import ComplaintRecord
from store.resident_access import ResidentAccessRepository
from store.staff import StaffUser

ACTION = "issue_access_code"
PURGED_DETAIL = (
    "the personal data of this complaint was destroyed under the retention policy: there is no one to send"
    " an access code to"
)
ANONYMOUS_DETAIL = "the complaint is anonymous: there is no one to send an access code to"


class PrintedLetter(BaseModel):
    """The letter to print and post, holding the new code: shown once, never kept."""

    subject: str
    text: str


class AccessCodeIssued(BaseModel):
    reference: str
    channel: Literal["email", "post"] = Field(
        description="email: the code is e-mailed (drawn when the e-mail goes out); post: print `letter` now"
    )
    to: Literal["complainant", "representative"]
    expires_on: date = Field(description="The last day the new code works")
    withdrawn: int = Field(description="Earlier codes, links and page sessions that stopped working")
    notification_id: str
    letter: PrintedLetter | None = Field(
        default=None,
        description="By post only: the letter with the new code, to print and post. Shown only in this"
        " answer: if it is lost, issue a new code (this one then stops working).",
    )


@dataclass(frozen=True)
class Plan:
    """Who a new code goes to and how: the rule every letter to the complainant follows."""

    channel: Literal["email", "post"]
    to: Literal["complainant", "representative"]
    post_reason: str | None


async def refusal(services: Services, record: ComplaintRecord) -> ProblemError | None:
    """Why no code can be issued on this complaint (409), or None."""
    destroyed = await services.pool.fetchval(
        "SELECT personal_data_destroyed_at FROM complaints WHERE reference = $1", record.reference
    )
    if destroyed is not None:
        return ProblemError(409, "Personal data destroyed", PURGED_DETAIL, "personal-data-destroyed")
    if record.anonymous:
        return ProblemError(409, "Anonymous complaint", ANONYMOUS_DETAIL, "anonymous")
    return None


def who_and_how(services: Services, record: ComplaintRecord) -> Plan:
    representative = record.representative or {}
    to: Literal["complainant", "representative"] = (
        "representative" if representative.get("consent_recorded") else "complainant"
    )
    reason = why_by_post(
        services.settings.notification_channel,
        complainant=record.complainant,
        representative=record.representative,
    )
    return Plan("post" if reason else "email", to, reason)


async def issue_new_code(
    services: Services, staff: StaffUser, record: ComplaintRecord, *, request_id: str | None
) -> AccessCodeIssued:
    """Withdraw every credential of the complaint, issue a new access code and queue the letter carrying
    it, in one transaction (need-to-know and the role were checked by the caller, as for every action)."""
    refused = await refusal(services, record)
    if refused is not None:
        raise refused
    plan = who_and_how(services, record)
    policy = services.policies.get(record.policy_id)
    if policy is None:
        detail = f"the complaint's policy {record.policy_id!r} is not loaded"
        raise ProblemError(409, "Unknown policy", detail)
    # By post the code is drawn now (it is printed now); by e-mail when the e-mail goes out.
    code = new_access_code() if plan.channel == "post" else None
    async with services.pool.acquire() as connection, connection.transaction():
        repository = ResidentAccessRepository(connection)
        withdrawn = await repository.revoke_all(reference=record.reference)
        issued = await repository.issue(
            reference=record.reference,
            token_hash=hash_token(code or new_token()),
            lifetime=TOKEN_LIFETIME,
            kind="access",
        )
        expires_on = issued.expires_at.astimezone(ZoneInfo("Europe/London")).date()
        context: dict[str, Any] = {
            "reference": record.reference,
            "track_url": track_url(services),
            "expires_on": expires_on.isoformat(),
            "by_post": plan.channel == "post",
            "stage": record.stage,
            "policy": policy.name,
        }
        if code is None:
            context["access_token_id"] = issued.id  # armed when the e-mail goes out
        notification_id = f"access-code:{record.reference}:{issued.id}"
        # Written before anything is committed: a letter that cannot be written withdraws nothing.
        letter = None if code is None else _printed(services, record, context | {"access_code": code})
        await repository.queue_to_resident(
            notification_id=notification_id,
            reference=record.reference,
            workflow_id=record.workflow_id,
            template=ACCESS_CODE,
            recipient=None,  # the letter's rule decides: the complainant, or their representative
            context=context,
        )
        await AuditRepository(connection).append_by(
            staff,
            ACTION,
            reference=record.reference,
            request_id=request_id,
            # Codes only: who it went to and how, and how many credentials stopped working. Never the code.
            after={
                "channel": plan.channel,
                "audience": plan.to,
                "withdrawn": withdrawn,
                "notification_id": notification_id,
            },
        )
    return AccessCodeIssued(
        reference=record.reference,
        channel=plan.channel,
        to=plan.to,
        expires_on=expires_on,
        withdrawn=withdrawn,
        notification_id=notification_id,
        letter=letter,
    )


def _printed(services: Services, record: ComplaintRecord, context: dict[str, Any]) -> PrintedLetter:
    policy = services.policies[record.policy_id]
    resident_pages = DeliveryOptions.from_settings(services.settings).resident_pages or ""
    try:
        rendered: PreviewLetter = render_as_delivered(
            ACCESS_CODE,
            context,
            record,
            policy,
            services.settings.notification_templates_dir,
            resident_pages,
        )
    except RenderError as error:  # a council's own template that cannot render: said, never a 500
        raise ProblemError(409, "Letter cannot be written", f"the access code letter: {error}") from error
    return PrintedLetter(subject=rendered.subject, text=rendered.text)
