"""Staff intake: a complaint received by phone, letter or in person, logged on a form. The council's rules are
on the page (its exclusions, who may complain for someone else and with what consent, the time limit), and
the answer is the API's: the same request model (api.schemas.ComplaintCreate) and the same checks and
opening (api.casework.log_complaint), a refusal explained next to the field it is about."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.casework import log_complaint
from api.deps import request_id as request_id_of
from api.errors import ProblemError
from api.permissions import allowed
from api.schemas import ComplaintCreate
from domain.models import Channel, ContactPreference
from web.layout import LONDON, page, words
from web.staff.common import layout, services_of
from web.staff.session import StaffSession, check_form, signed_in

router = APIRouter(prefix="/staff", include_in_schema=False)
CHANNELS = [Channel.PHONE, Channel.LETTER, Channel.IN_PERSON, Channel.EMAIL, Channel.SOCIAL_MEDIA]
# Where a problem of the request model or the intake rules is shown on the form.
FIELD_OF = {
    ("complainant", "name"): "name",
    ("complainant", "email"): "email",
    ("complainant", "phone"): "phone",
    ("complainant", "address"): "address",
    ("representative", "name"): "rep_name",
    ("representative", "email"): "rep_email",
    ("representative", "phone"): "rep_phone",
    ("representative", "kind"): "rep_kind",
    ("representative", "relationship"): "rep_relationship",
    ("received_at",): "received_on",
    ("complainant",): "name",
    ("representative",): "rep_name",
}
MESSAGES = {
    "policy_id": "Select the council",
    "channel": "Select how the complaint was received",
    "service_area": "Enter the service area",
    "summary": "Enter what went wrong",
    "received_on": "Enter the day the complaint was received, like 2026-11-20",
}


def body_of(form: dict[str, str]) -> dict[str, Any]:
    """The API's request body from the form's fields (blanks left out)."""

    def given(name: str) -> str | None:
        value = form.get(name, "").strip()
        return value or None

    received: Any = given("received_on")
    if received:
        try:
            moment = time.fromisoformat(given("received_time") or "09:00")
            received = datetime.combine(date.fromisoformat(received), moment, tzinfo=LONDON).isoformat()
        except ValueError:
            pass
    complainant = {
        key: value for key in ("name", "email", "phone", "address") if (value := given(key)) is not None
    } | {"preferred_contact": given("preferred_contact") or "email"}
    body: dict[str, Any] = {
        "policy_id": given("policy_id") or "",
        "received_at": received,
        "channel": given("channel"),
        "complainant": complainant,
        "anonymous": form.get("anonymous") == "yes",
        "service_area": given("service_area") or "",
        "summary": given("summary") or "",
        "desired_outcome": given("desired_outcome") or "",
        "staff_complained_about": [
            part.strip() for part in (given("staff_complained_about") or "").split(",") if part.strip()
        ],
        "matter_arose_on": given("matter_arose_on"),
        "out_of_time_reason": given("out_of_time_reason"),
    }
    if given("rep_name"):
        body["representative"] = {
            "name": given("rep_name"),
            "kind": given("rep_kind") or "other",
            "relationship": given("rep_relationship") or "",
            "email": given("rep_email"),
            "phone": given("rep_phone"),
            "consent_recorded": form.get("rep_consent") == "yes",
            "consent_kind": "written",
        }
    return {key: value for key, value in body.items() if value is not None}


def _field(location: tuple[Any, ...]) -> str:
    parts = tuple(str(part) for part in location if not isinstance(part, int))
    return FIELD_OF.get(parts[:2]) or FIELD_OF.get(parts[:1]) or (parts[0] if parts else "form")


def _intake_page(request: Request, session: StaffSession, status_code: int = 200, **context: Any) -> Response:
    services = services_of(request)
    form: dict[str, str] = context.pop("form", {})
    policy = services.policies.get(form.get("policy_id", ""))
    return page(
        "staff/intake.html",
        status_code,
        policies=sorted(services.policies.values(), key=lambda item: item.name),
        policy=policy,
        channels=[(channel.value, words(channel.value)) for channel in CHANNELS],
        contacts=[(choice.value, words(choice.value)) for choice in ContactPreference],
        form=form,
        intake_key=form.get("intake_key") or secrets.token_urlsafe(16),
        **{"errors": {}, **context},
        **layout(session, "intake"),
    )


@router.get("/complaints/new")
async def intake_form(
    request: Request, session: Annotated[StaffSession, Depends(signed_in)], policy_id: str = ""
) -> Response:
    if not allowed("create", session.staff.role):
        return page(
            "staff/refused.html", 403, heading="You cannot log complaints", message="", **layout(session)
        )
    today = datetime.now(LONDON)
    return _intake_page(
        request,
        session,
        form={
            "policy_id": policy_id[:64],
            "received_on": today.date().isoformat(),
            "received_time": f"{today:%H:%M}",
        },
    )


@router.post("/complaints/new")
async def log_it(request: Request, session: Annotated[StaffSession, Depends(signed_in)]) -> Response:
    raw = await request.form()
    form = {key: value for key, value in raw.items() if isinstance(value, str)}
    check_form(session, form.get("csrf_token"))
    if not allowed("create", session.staff.role):
        return page(
            "staff/refused.html", 403, heading="You cannot log complaints", message="", **layout(session)
        )
    if form.get("choose") == "yes":  # "Show this council's rules" (the page without JavaScript)
        return _intake_page(request, session, form=form)
    errors: dict[str, str] = {}
    try:
        body = ComplaintCreate.model_validate(body_of(form))
    except ValidationError as error:
        for problem in error.errors():
            name = _field(problem["loc"])
            errors.setdefault(
                name, MESSAGES.get(name) or f"{words(name)}: {problem['msg'].removeprefix('Value error, ')}"
            )
        return _intake_page(request, session, 422, form=form, errors=errors)
    services = services_of(request)
    try:
        reference = await log_complaint(
            pool=services.pool,
            temporal=services.temporal,
            policies=services.policies,
            settings=services.settings,
            staff=session.staff,
            body=body,
            request_id=request_id_of(),
            idempotency_key=f"console:{form.get('intake_key', '')[:64]}" if form.get("intake_key") else None,
        )
    except ProblemError as error:
        if error.problem.status != 422:
            raise
        detail = error.problem.detail or ""
        where, _, why = detail.partition(": ")
        name = _field(tuple(where.split("."))) if why else "form"
        return _intake_page(request, session, 422, form=form, errors={name: why or detail})
    return RedirectResponse(f"/staff/complaints/{reference}?done=create", status_code=303)
