"""Make a complaint: the answers of the question pages (api/routes/resident_questions.py) checked on the
server as a whole complaint, then sent once, and the confirmation.

"Who is the complaint for?" is asked first and must be answered wherever the council accepts representatives:
a carer who filled in their own details but missed it must be asked, never have the complaint go in silently
as the other person's own. The "for someone else" answers are read only when that answer says so.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.client_address import client_ip
from api.deps import ServicesDep, answer_timing
from api.errors import ProblemError
from api.idempotency import Outcome, run_once_as
from api.resident import service, withheld
from api.resident.error_messages import ON_BEHALF_MISSING, form_checks
from api.resident.make.confirmation import confirmation, confirmation_on_file
from api.resident.make.form import (
    ADJUSTMENT_LABELS,
    FORMAT_LABELS,
    TENURE_LABELS,
    adjustments_from,
    form_policy,
    representative_choices,
    representative_from,
    representative_not_accepted,
    representative_refusal,
)
from api.resident.make.questions import FIELD_ORDER
from api.resident.ratelimit import email_key
from api.resident.service import PublicComplaintCreate
from api.routes.resident_pages import (
    FIELD_LABELS,
    SERVICE_AREAS,
    SignedInPage,
    field_errors,
    render,
    see_other,
    set_session_cookie,
)
from core.services import Services
from domain.intake_rules import DECLARED
from domain.support import support_lines
from store.complaints import ComplaintRecord, ComplaintRepository, NotFound, adjustments_of

router = APIRouter(include_in_schema=False)


def question_context(services: Services, form: dict[str, Any]) -> dict[str, Any]:
    """What the form's questions offer for these answers: the councils, the chosen council's service areas
    and kinds of representative, and its consent rule."""
    councils = sorted(((policy.id, policy.name) for policy in services.policies.values()), key=lambda c: c[1])
    policy = form_policy(services, form)
    return {
        "councils": [("", "Select a council"), *councils],
        "service_areas": SERVICE_AREAS
        if policy is None
        else [(a.code, a.label) for a in policy.service_areas],
        "adjustment_labels": ADJUSTMENT_LABELS,
        "format_labels": FORMAT_LABELS,
        "tenure_labels": TENURE_LABELS,
        "policy": policy,
        "representative_kinds": representative_choices(services, policy),
        "written_consent": policy is not None and not policy.complainants.consent_accepted(DECLARED),
        "for_someone_else": form.get("on_behalf") == "yes",
    }


@router.get("/complaint/new", response_class=HTMLResponse)
async def new_complaint(
    services: ServicesDep, policy_id: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The old one-page form's address (bookmarks, old links): the question pages, with the council it
    named, so every resident follows the same journey, one question a page."""
    chosen = policy_id if policy_id in services.policies else ""
    return see_other("/complaint/make" + (f"?{urlencode({'policy_id': chosen})}" if chosen else ""))


@router.get("/complaint/{reference}/created", response_class=HTMLResponse)
async def created(reference: str, page: SignedInPage, services: ServicesDep) -> Response:
    """The confirmation again (without the access code, shown once), with what happens next, the dates and
    why, from the case record and its council's policy, as on the first showing."""
    if isinstance(page, HTMLResponse):
        return page
    record = page.access.record
    support = support_lines(adjustments_of(record.complainant))
    policy = services.policies.get(record.policy_id)
    e_mail_on = services.settings.notification_channel != "none"
    told = None if policy is None else confirmation_on_file(policy, record, e_mail_on=e_mail_on)
    return render("created.html", reference=reference, token=None, support=support, c=told, again=True)


def who_for_missing(services: Services, form: dict[str, Any]) -> dict[str, str]:
    """ "Who is the complaint for?" unanswered where the council asks it (it accepts representatives)."""
    asked = bool(representative_choices(services, form_policy(services, form)))
    return {"on_behalf": ON_BEHALF_MISSING} if asked and form.get("on_behalf") not in ("yes", "no") else {}


NO_CONTACT = "Enter an e-mail address, a phone number or a postal address, so that we can reply to you"


def contact_missing(form: dict[str, Any]) -> dict[str, str]:
    """No way to reach anyone about the complaint: the complainant's e-mail address is not required (a
    person complained for often has none), but some contact for them or their representative is."""
    if form.get("on_behalf") == "yes":
        return {}  # the representative gives their own e-mail address or phone: that is asked of them
    given = [form.get(field) for field in ("email", "phone", "address")]
    return {} if any(str(value or "").strip() for value in given) else {"email": NO_CONTACT}


def checked(services: Services, form: dict[str, Any]) -> tuple[PublicComplaintCreate | None, dict[str, str]]:
    """The complaint the answers make, or every problem with them, in the order the pages ask them."""
    fields: dict[str, Any] = {
        key: form.get(key, "") for key in PublicComplaintCreate.model_fields if key != "adjustments"
    }
    fields["email"] = fields["email"] or None  # not required: some contact is (`contact_missing`)
    fields["phone"] = fields["phone"] or None
    fields["tenure"] = fields["tenure"] or None  # optional: no answer is no tenure
    fields["address"] = fields["address"] or None
    fields["adjustments"] = adjustments_from(form)
    fields["representative"] = representative_from(form)
    errors: dict[str, str] = {}
    body: PublicComplaintCreate | None = None
    try:
        body = PublicComplaintCreate.model_validate(fields)
    except ValidationError as error:
        errors = field_errors(error, by_cause=True)
        # Checked by the model only once its fields are valid: the summary lists every problem at once.
        representative = fields["representative"]
        if representative and not (representative["email"] or representative["phone"]):
            errors.setdefault("representative_email", FIELD_LABELS["representative_email"])
    else:
        if body.policy_id not in services.policies:
            errors["policy_id"] = FIELD_LABELS["policy_id"]
        else:
            errors = representative_refusal(services.policies[body.policy_id], body)
    errors.pop("form", None)  # no way to reach anyone: `contact_missing` names the field
    early = representative_not_accepted(form_policy(services, form), form)
    errors = who_for_missing(services, form) | contact_missing(form) | form_checks(form) | early | errors
    # In the order of the page (the error summary follows it).
    order = {field: place for place, field in enumerate(FIELD_ORDER)}
    errors = dict(sorted(errors.items(), key=lambda item: order.get(item[0], len(order))))
    return (None if errors else body), errors


async def send(
    services: Services,
    request: Request,
    request_id: str,
    form: dict[str, Any],
    body: PublicComplaintCreate,
    refused: Callable[[dict[str, str], int], HTMLResponse],
) -> Response:
    """Make the complaint (once, however often it is sent) and show the confirmation; a refusal (a contact
    restriction, too many complaints) is shown by `refused` (the check-answers page, the answers kept)."""
    address = client_ip(request)
    try:
        reference, code, expires = await create_once(
            services, request, body, request_id, form.get("submission", "")
        )
    except ProblemError as error:
        if error.problem.status not in (403, 429):  # a contact restriction, or too many complaints
            raise
        message = error.problem.detail or "Too many attempts"
        response = refused({"send": message[:1].upper() + message[1:]}, error.problem.status)
        response.headers.update(error.headers or {})
        return response
    policy = services.policies[body.policy_id]
    record = await _record(services, reference)
    e_mail_on = services.settings.notification_channel != "none"
    told = confirmation(policy, reference, body, record, e_mail_on=e_mail_on)
    if code is None:
        # Made for someone whose written consent is still to come: nothing opens it for the representative.
        return render("created.html", reference=reference, token=None, consent_pending=True, c=told)
    # Signed in at once. The access code is shown on this answer only (it is never stored in clear, so no
    # later page can show it; a form sent again shows a new one). A submission held for staff (a contact
    # restriction, issue 29) signs in the same way: its code opens what a complaint just received shows.
    _, secret = await service.open_session(services, reference=reference, code=code, client_ip=address)
    response = render(
        "created.html",
        reference=reference,
        token=code,
        # Its last day, in the council's zone: the page says until when it works (TOKEN_LIFETIME).
        code_works_until=None if expires is None else expires.astimezone(ZoneInfo(policy.timezone)).date(),
        # The code's own e-mail (a link and a second code) goes to the complainant: the page says so only
        # to a complainant who made the complaint themselves (a representative is told where it went by `c`).
        link_sent=(
            service.emailed_to(services, record, str(body.email))
            if body.email and not told.for_someone_else
            else None
        ),
        support=support_lines(body.adjustments),
        c=told,
    )
    set_session_cookie(response, services, secret)
    return response


async def _record(services: Services, reference: str) -> ComplaintRecord:
    """The case row, or what a held submission's reference shows (api/resident/withheld.py)."""
    try:
        return await ComplaintRepository(services.pool).get(reference=reference)
    except NotFound:
        item = await withheld.held(services, reference)
        if item is None:
            raise
        return withheld.held_record(item)


async def create_once(
    services: Services, request: Request, body: PublicComplaintCreate, request_id: str, submission: str
) -> tuple[str, str | None, datetime | None]:
    """The complaint's reference, an access code (none for a representative whose consent is to come) and
    when that code stops working.
    The same form sent twice (a double click, a refresh) makes the complaint once, like an API client's
    Idempotency-Key: the key is the form's id and what it holds, so going back, changing the form and
    sending it again makes a new complaint."""
    sent = body.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(sent, sort_keys=True).encode("utf-8")).hexdigest()[:32]
    key = f"form:{submission[:64]}:{digest}" if submission else None

    async def make() -> Outcome:
        created = await service.create(
            services,
            body,
            request_id,
            client_ip=client_ip(request),
            timing=answer_timing(request),
            idempotency_key=key,
        )
        return 201, created, {}

    async def again(stored: dict[str, Any]) -> dict[str, Any]:
        return await service.created_again(services, stored)

    for _ in range(50):
        try:
            answer = await run_once_as(
                pool=services.pool,
                owner=f"resident:{email_key(body.maker_email())}",
                key=key,
                request=request,
                body=sent,
                operation=make,
                keep=service.without_code,
                replay=again,
            )
        except ProblemError as error:
            if error.problem.title != "Request in progress":
                raise
            # The first of a double click is still making the complaint: wait for its answer.
            await asyncio.sleep(0.2)
            continue
        result = json.loads(bytes(answer.body))
        if answer.status_code >= 400:  # the first one's refusal, replayed
            raise ProblemError(answer.status_code, result.get("title", "Refused"), result.get("detail"))
        code, expires = result["access_token"], result.get("access_token_expires_at")
        return (
            str(result["reference"]),
            None if code is None else str(code),
            None if code is None or expires is None else datetime.fromisoformat(str(expires)),
        )
    busy = ProblemError(503, "Try again", "your complaint is still being sent: refresh this page in a moment")
    busy.headers = {"Retry-After": "5"}
    raise busy
