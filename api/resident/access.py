"""Proving access to a complaint: access codes, the one-time codes of e-mailed links, page sessions.

A resident is whoever holds a credential of a complaint, which opens that complaint only: the access code
(shown once when the complaint is made, and in each e-mail with a link; API clients send it as a bearer
token), the one-time code of an e-mailed link (exchanged for a page session, or by an API client for a new
access code) or a page session (the resident pages' HttpOnly cookie). No code ever travels in a URL except
the one-time link code, which is dead once used. Unknown codes, other complaints' codes and unknown
references all look the same (404), and each counts as a wrong guess; a right code always works (see
`ratelimit.py`). Every code exists in clear only in the page or message that gives it (issue 29).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from api.errors import ProblemError
from api.resident import withheld
from api.resident.bodies import AccessToken
from api.resident.ratelimit import Limiter
from api.resident.tokens import MAX_TOKEN_LENGTH, TOKEN_LIFETIME, hash_token, new_access_code, new_token
from api.resident.wording import next_stage
from core.services import Services
from domain.models import Actor, Role
from store.complaints import ComplaintRecord, ComplaintRepository, NotFound
from store.held_submissions import HeldSubmission
from store.resident_access import Kind, ResidentAccessRepository, TokenRecord

RESIDENT_ROLE = Role.RESIDENT.value

# How a resident follows a complaint without an e-mailed link (one is never created where it cannot be sent).
NO_LINK = (
    "If you asked us to write to you by post, or no e-mail arrives, sign in with your complaint reference and"
    " the access code you were given when you made the complaint, or contact the council's complaints team:"
    " they can send you a new access code by post, and they will write to you about your complaint."
)
ACCESS_LINK_ANSWER = (
    "If this e-mail address is on the complaint and we write to it by e-mail, we have sent a new link and"
    " access code to it."
    f" It can take a few minutes. {NO_LINK}"
)


@dataclass(frozen=True)
class ResidentAccess:
    """A resident who proved access to one complaint (with an access code, or a page session)."""

    record: ComplaintRecord
    token_id: int
    # A submission held in triage for a contact restriction (api/resident/withheld.py): `record` is what its
    # reference shows, and its actions are kept with the triage item (api/resident/held_actions.py).
    held: HeldSubmission | None = None

    @property
    def actor(self) -> Actor:
        name = self.record.complainant.get("name") or ""
        return Actor(id="resident", role=Role.RESIDENT, name=str(name))


NOT_FOUND_DETAIL = "no complaint with this reference for this access token"
EXPIRED_DETAIL = (
    "this access token has expired or was withdrawn: ask for a new link by e-mail, or ask the council's"
    " complaints team for a new access code"
)
SESSION_ENDED_DETAIL = "you were signed out, or your session ended: sign in again"
USED_DETAIL = "this link has been used already (a link works once): ask for a new link by e-mail"


def limiter(services: Services) -> Limiter:
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
        await limiter(services).wrong_code(client_ip=client_ip, reference=reference)
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
    try:
        record = await ComplaintRepository(services.pool).get(reference=reference)
    except NotFound:
        # No case row: a submission held in triage (the same reference once an officer opens it), else a
        # reference whose held item was purged.
        item = await withheld.held(services, reference)
        if item is None:
            raise ProblemError(404, "Not found", NOT_FOUND_DETAIL) from None
        return ResidentAccess(record=withheld.held_record(item), token_id=token_id, held=item)
    return ResidentAccess(record=record, token_id=token_id)


async def access_again(services: Services, access: ResidentAccess) -> ResidentAccess:
    """The same credential's complaint, read again: a held submission an officer just opened is now that
    complaint (its reference)."""
    return await _access(services, access.record.reference, access.token_id)


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


async def exchange_link_code(services: Services, *, reference: str, code: str, client_ip: str) -> AccessToken:
    """For API clients: the one-time code of an e-mailed link, used up for a new access code."""
    found = await _credential(
        services, reference=reference, secret=code, kinds=("link",), client_ip=client_ip
    )
    await _use_once(services, found)
    token, expires_at = await issue_access_code(services, reference)
    return AccessToken(access_token=token, access_token_expires_at=expires_at)


async def issue_access_code(services: Services, reference: str) -> tuple[str, datetime]:
    """A new access code (short, grouped: tokens.py), to be shown once; only its hash is kept."""
    token = new_access_code()
    issued = await ResidentAccessRepository(services.pool).issue(
        reference=reference, token_hash=hash_token(token), lifetime=TOKEN_LIFETIME, kind="access"
    )
    return token, issued.expires_at


def track_url(services: Services) -> str:
    """The sign-in page's address, as the letters give it (from configuration, as `link_base`)."""
    settings = services.settings
    base = settings.public_base_url or f"http://{settings.api_host}:{settings.api_port}"
    return f"{str(base).rstrip('/')}/complaint/track"


def link_base(services: Services, reference: str) -> str:
    """The e-mailed link without its code (the code is drawn when the message goes out: see
    notifications/link_codes.py). The host comes from configuration, never from the request's Host header
    (a forged Host would otherwise send a live code to someone else's site)."""
    return f"{track_url(services)}?{urlencode({'reference': reference})}"


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


async def send_link(
    services: Services,
    record: ComplaintRecord,
    recipient: str,
    *,
    first: bool = False,
    held: bool = False,
) -> bool:
    """E-mail a link with a one-time code and an access code to type in (through the outbox); False, and
    nothing created, when it cannot go by e-mail. The outbox row holds neither code: both are drawn when the
    message is sent (notifications/link_codes.py). `held`: `record` is what a submission held in triage
    shows (api/resident/withheld.py), which has no case row: its e-mail is the same."""
    if not can_email_link(services, record, recipient):
        return False
    repository = ResidentAccessRepository(services.pool)
    lifetime = timedelta(days=services.settings.resident_link_days)
    # Armed with the hash of a secret nobody keeps: it opens nothing until the message goes out.
    issued = await repository.issue(
        reference=record.reference, token_hash=hash_token(new_token()), lifetime=lifetime, kind="link"
    )
    # The access code the message gives, armed the same way: a resident who cannot open links (or whose
    # link is used) types it in with the reference, as long as any access code works.
    code = await repository.issue(
        reference=record.reference, token_hash=hash_token(new_token()), lifetime=TOKEN_LIFETIME, kind="access"
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
            "access_token_id": code.id,
            "track_url": track_url(services),
            "expires_on": issued.expires_at.astimezone(ZoneInfo("Europe/London")).date().isoformat(),
            "once": True,
            "stage": record.stage,
            "policy": policy.name if policy else record.policy_id,
            "next_stage": next_stage(policy, record.stage),
        }
        | (_made_for_you(record, recipient) if first else {}),
        held_policy_id=record.policy_id if held else None,
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


async def request_access_link(services: Services, *, reference: str, email: str, client_ip: str) -> None:
    """Queue a new access link when `email` is the complainant's (or their consented representative's).
    Limited per client address and per e-mail address (429, whether or not anything matched); the caller
    otherwise answers the same way whether or not anything matched."""
    limits = limiter(services)
    await limits.link_requested(client_ip=client_ip)
    repository = ComplaintRepository(services.pool)
    held = None
    try:
        record = await repository.get(reference=reference)
    except NotFound:
        # A submission held in triage answers as a complaint does (api/resident/withheld.py), decided or not
        # (a declined complaint's sender gets a link too: its view says what the council did).
        held = await withheld.held(services, reference)
        if held is None:
            return
        record = withheld.held_record(held)
    wanted = email.strip().lower()
    addresses = [record.complainant.get("email")]
    representative = record.representative or {}
    if representative.get("consent_recorded"):
        addresses.append(representative.get("email"))
    recipient = next((str(a) for a in addresses if a and str(a).strip().lower() == wanted), None)
    if recipient is None or record.anonymous:
        return
    if not await limits.allow_link_for(reference, recipient):
        return
    await send_link(services, record, recipient, held=held is not None)


async def revoke(services: Services, access: ResidentAccess, *, every: bool) -> None:
    repository = ResidentAccessRepository(services.pool)
    if every:
        await repository.revoke_all(reference=access.record.reference)
    else:
        await repository.revoke(token_id=access.token_id)


def emailed_to(services: Services, record: ComplaintRecord | None, email: str) -> str | None:
    """Where the access e-mail of a complaint just made went (its link and an access code), for the
    confirmation page to say so: `email` when it could go by e-mail, else None. `record` is None for a
    submission held for staff (issue 29): it answers as a complaint would, so the page tells no one that it
    was held."""
    if record is None:
        return email if services.settings.notification_channel != "none" else None
    return email if can_email_link(services, record, email) else None
