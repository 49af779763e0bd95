"""The resident pages' start page, and what the complaint's forms share: the field labels and the errors of a
refused form (GOV.UK patterns, server-rendered forms that work without JavaScript). Making a complaint is
`api/routes/resident_questions.py` (one question a page) and `api/routes/resident_make.py` (the answers
checked as a whole, the sending and the confirmation); the pages of a complaint once made (signing in, its
page, its actions) are `web/resident/`, whose rendering and page session these pages share.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.deps import ServicesDep
from api.resident.error_messages import cause_message
from api.resident.make.form import REPRESENTATIVE_FIELDS, form_policy
from api.resident.wording import next_stage
from domain.policy import DEFAULT_SERVICE_AREAS
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
    "summary": "Enter what went wrong",
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

FIELD_LABELS |= {
    "representative_name": "Enter your name",
    "representative_email": "Enter your e-mail address or your phone number, so that we can contact you",
    "representative_phone": "Your phone number must be 40 characters or fewer",
    "representative_kind": "Select which best describes you",
    "representative_relationship": "Your relationship to them must be 200 characters or fewer",
    "representative_consent": "Confirm that you have their consent to act for them",
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
    # The next stage by the council's own name for it (one name per stage, as on the tracking pages).
    later = next_stage(council, council.stages[0].number) if council is not None else ""
    return render("start.html", council=council, councils=councils, next_stage=later)
