"""The resident web pages for making a complaint: the start page, the complaint form and the confirmation
(GOV.UK patterns, server-rendered forms that work without JavaScript; the form is sent by
`api/routes/resident_make.py`). The pages of a complaint once made (signing in, its page, its actions) are
`web/resident/`, whose rendering and page session these pages share.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import ServicesDep
from api.errors import ProblemError
from api.resident import service
from api.resident.error_messages import cause_message
from api.resident.service import PublicComplaintCreate
from core.services import Services
from domain.intake_rules import DECLARED
from domain.policy import DEFAULT_SERVICE_AREAS, Policy
from domain.support import support_lines
from store.complaints import adjustments_of
from web.resident.pages import render, see_other
from web.resident.session import COOKIE, SignedInPage, set_session_cookie

# Shared with the other resident routers (resident_make, resident_info, satisfaction) and the tests.
__all__ = ["COOKIE", "SignedInPage", "render", "see_other", "set_session_cookie"]

router = APIRouter(include_in_schema=False)

SERVICE_AREAS = [(area.code, area.label) for area in DEFAULT_SERVICE_AREAS]

FIELD_LABELS = {
    "policy_id": "Select the council",
    "name": "Enter the full name",
    "email": "Enter an e-mail address in the correct format, like name@example.com",
    "phone": "Enter a phone number of 40 characters or fewer",
    "service_area": "Select the service your complaint is about",
    "tenure": "Select how you hold your home from the list",
    "summary": "Tell us what went wrong",
    "desired_outcome": "The outcome you want must be 5,000 characters or fewer",
    "reasons": "Your reasons must be 10,000 characters or fewer",
    "outcome_wanted": "The outcome you want must be 5,000 characters or fewer",
    "reason": "The reason must be 5,000 characters or fewer",
    "up_to": "Enter the latest date you agree to, like 29 1 2027",
    "agreed": "Select yes if you agree that we can send our response later",
}

ADJUSTMENT_FIELDS = {
    "kinds": "adjustment_kinds",
    "details": "adjustment_details",
    "preferred_language": "preferred_language",
    "preferred_format": "preferred_format",
}
FIELD_LABELS |= {
    "adjustment_kinds": "Select the support you need from the list",
    "adjustment_details": "Tell us about the support you need in 1,000 characters or fewer",
    "preferred_language": "The language must be 60 characters or fewer",
    "preferred_format": "Select a format from the list",
}

# The representative part of the form (someone making the complaint for the complainant).
REPRESENTATIVE_FIELDS = {
    "name": "representative_name",
    "email": "representative_email",
    "phone": "representative_phone",
    "kind": "representative_kind",
    "relationship": "representative_relationship",
    "consent_declared": "representative_consent",
}
FIELD_LABELS |= {
    "representative_name": "Enter your name",
    "representative_email": "Enter your e-mail address or your phone number, so that we can contact you",
    "representative_phone": "Your phone number must be 40 characters or fewer",
    "representative_kind": "Select which best describes you",
    "representative_relationship": "Your relationship to them must be 200 characters or fewer",
    "representative_consent": "Confirm that you have their consent to act for them",
}
# Plain words for the policies' representative kinds (a kind not listed here is shown as it is written).
REPRESENTATIVE_KIND_LABELS = {
    "family": "A family member",
    "friend": "A friend",
    "advocate": "An advocate (for example, from an advocacy service)",
    "carer": "Their carer",
    "solicitor": "A solicitor or legal adviser",
    "councillor": "A councillor",
    "mp": "Their MP (Member of Parliament)",
    "other": "Someone else",
}


def field_errors(error: ValidationError, *, by_cause: bool = False) -> dict[str, str]:
    """One message a field; with `by_cause` (the complaint form), worded for why it was refused."""
    errors: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        if field == "adjustments" and len(item["loc"]) > 1:
            field = ADJUSTMENT_FIELDS.get(str(item["loc"][1]), "adjustment_details")
        elif field == "representative":
            # No field named: the representative gave neither an e-mail address nor a phone number.
            part = str(item["loc"][1]) if len(item["loc"]) > 1 else "email"
            field = REPRESENTATIVE_FIELDS.get(part, "representative_name")
        worded = cause_message(field, item) if by_cause else None
        errors.setdefault(field, worded or FIELD_LABELS.get(field, str(item["msg"])))
    return errors


# ----------------------------------------------------------------------------------------------- start


@router.get("/", response_class=HTMLResponse)
async def start(
    services: ServicesDep, policy_id: Annotated[str | None, Query(max_length=60)] = None
) -> HTMLResponse:
    """The start page; "Before you start" names the council's routes (the one asked for, or the only one)."""
    councils = sorted(services.policies.values(), key=lambda policy: policy.name)
    council = form_policy(services, {"policy_id": policy_id})
    return render("start.html", council=council, councils=councils)


# ---------------------------------------------------------------------------------- make a complaint


def form_policy(services: Services, form: dict[str, Any]) -> Policy | None:
    """The council the form is for: the one chosen (or asked for, `?policy_id=`), or the only one."""
    if form.get("policy_id") in services.policies:
        return services.policies[form["policy_id"]]
    only = list(services.policies.values())
    return only[0] if len(only) == 1 else None


def representative_choices(services: Services, policy: Policy | None) -> list[tuple[str, str]]:
    """The kinds of representative the council accepts, in plain words (none: the form has no such part).
    Before a council is chosen, every kind some council accepts: the chosen council's rules decide."""
    policies = [policy] if policy else list(services.policies.values())
    kinds: list[str] = []
    for each in policies:
        if each.complainants.representatives_allowed:
            kinds += [kind for kind in each.complainants.representative_kinds if kind not in kinds]
    plain = REPRESENTATIVE_KIND_LABELS
    return [(kind, plain.get(kind, kind.replace("_", " ").capitalize())) for kind in kinds]


def new_form(services: Services, form: dict[str, Any], errors: dict[str, str], status: int) -> HTMLResponse:
    councils = sorted(((policy.id, policy.name) for policy in services.policies.values()), key=lambda c: c[1])
    policy = form_policy(services, form)
    return render(
        "new.html",
        status,
        councils=[("", "Select a council"), *councils],
        service_areas=SERVICE_AREAS if policy is None else [(a.code, a.label) for a in policy.service_areas],
        adjustment_labels=ADJUSTMENT_LABELS,
        format_labels=FORMAT_LABELS,
        policy=policy,
        representative_kinds=representative_choices(services, policy),
        written_consent=policy is not None and not policy.complainants.consent_accepted(DECLARED),
        form=form,
        errors=errors,
        # This form's own id (kept when it comes back with errors): sent twice, it makes one complaint.
        submission=form.get("submission") or secrets.token_urlsafe(16),
    )


# The complaint form's fields from top to bottom (templates/new.html).
NEW_FORM_ORDER = [
    "on_behalf",
    "policy_id",
    *REPRESENTATIVE_FIELDS.values(),
    "name",
    "email",
    "phone",
    "service_area",
    "tenure",
    "summary",
    "desired_outcome",
    "adjustment_kinds",
    "preferred_language",
    "preferred_format",
    "address",
    "adjustment_details",
]

# Large print and easy read are asked once, as the letters' format (FORMAT_LABELS): two questions for one need
# contradicted each other. The API still takes them as kinds.
ADJUSTMENT_LABELS = [
    ("bsl", "A British Sign Language interpreter"),
    ("other_language", "An interpreter or letters in another language"),
    ("advocate", "An advocate or someone to support me"),
    ("other", "Something else"),
]
FORMAT_LABELS = [
    ("standard", "Standard"),
    ("large_print", "Large print"),
    ("easy_read", "Easy read"),
    ("braille", "Braille"),
    ("audio", "Audio"),
]


def adjustments_from(form: dict[str, Any]) -> dict[str, Any] | None:
    """The optional adjustments part of the complaint form (None when nothing was asked for)."""
    adjustments = {
        "kinds": form.get("adjustment_kinds") or [],
        "details": form.get("adjustment_details", ""),
        "preferred_language": form.get("preferred_language") or None,
        "preferred_format": form.get("preferred_format") or "standard",
    }
    asked = adjustments["kinds"] or adjustments["details"] or adjustments["preferred_language"]
    return adjustments if asked or adjustments["preferred_format"] != "standard" else None


def representative_from(form: dict[str, Any]) -> dict[str, Any] | None:
    """The representative part of the complaint form (None when the complaint is not made for someone)."""
    if form.get("on_behalf") != "yes":
        return None
    return {
        "name": form.get("representative_name", ""),
        "email": form.get("representative_email") or None,
        "phone": form.get("representative_phone") or None,
        "kind": form.get("representative_kind", ""),
        "relationship": form.get("representative_relationship", ""),
        "consent_declared": form.get("representative_consent") == "yes",
    }


def representative_refusal(policy: Policy, body: PublicComplaintCreate) -> dict[str, str]:
    """The council's refusal of the representative (the public API's 422), as the form's error."""
    try:
        service.representative_for(policy, body.representative, datetime.now(UTC))
    except ProblemError as error:
        if error.problem.status != 422:
            raise
        if (error.problem.detail or "").startswith("representative.kind"):
            return {"representative_kind": f"Select one of the kinds of representative {policy.name} accepts"}
        # The form for this council has no such part: the choice of council is what to change.
        return {
            "policy_id": f"{policy.name} does not accept complaints made for someone else: the person the"
            " complaint is for must make it"
        }
    return {}


@router.get("/complaint/new", response_class=HTMLResponse)
async def new_complaint(
    services: ServicesDep, policy_id: Annotated[str | None, Query(max_length=64)] = None
) -> HTMLResponse:
    """The form; `?policy_id=` chooses the council (the form then shows that council's rules only)."""
    chosen = policy_id if policy_id in services.policies else ""
    return new_form(services, {"service_area": "general", "policy_id": chosen}, {}, 200)


@router.get("/complaint/{reference}/created", response_class=HTMLResponse)
async def created(reference: str, page: SignedInPage) -> Response:
    """The confirmation again (without the access code, shown once)."""
    if isinstance(page, HTMLResponse):
        return page
    support = support_lines(adjustments_of(page.access.record.complainant))
    return render("created.html", reference=reference, token=None, support=support)
