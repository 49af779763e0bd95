"""The complaint page's forms: send information, answer the council's extension question, take the complaint
to the next stage, withdraw it (after a confirmation page: one click never withdraws a complaint). The rules
are the workflow's (through `api.resident.actions`): a refusal is shown with its reason, in a resident's
words (web/resident/refusal_words.py)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import RequestId, ServicesDep
from api.errors import ProblemError
from api.resident import actions
from api.resident.access import ResidentAccess
from api.resident.bodies import EscalationBody, InformationBody, WithdrawBody
from api.resident.error_messages import action_message, extension_answer_from
from api.resident.tokens import form_key, same
from api.resident.view import view
from core.services import Services
from web.resident.complaint import status_page
from web.resident.pages import not_found, render, see_other
from web.resident.refusal_words import for_resident
from web.resident.session import SignedInPage

router = APIRouter(include_in_schema=False)

# A field's message where its cause has none of its own (`action_message`: one per cause per field).
FIELD_LABELS = {
    "up_to": "Enter the latest date you agree to, like 29 1 2027",
    "agreed": "Select yes if you agree that we can send our response later",
}
FIELD_OF = {"information": "summary", "review": "reasons", "extension": "agreed", "withdraw": "reason"}
ACTIONS: dict[str, tuple[str, str]] = {
    # path: (result code for the redirect, what a refusal is about)
    "information": ("information", "We could not add your information"),
    "review": ("review", "We could not take your complaint to the next stage"),
    "extension": ("extension", "We could not record your answer"),
    "withdraw": ("withdrawn", "We could not withdraw your complaint"),
}
# A rule's refusal that names the field it is about ("outcome_wanted: this policy asks ..."): shown beside
# that field, as the answer the resident still has to give.
FIELD_REFUSAL = re.compile(r"^(?P<field>[a-z_]+): (?P<message>.+)$", re.DOTALL)
ANSWER_FIELDS = frozenset(EscalationBody.model_fields) | frozenset(InformationBody.model_fields)


def field_errors(error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        errors.setdefault(field, action_message(field, item) or FIELD_LABELS.get(field, str(item["msg"])))
    return errors


@router.get("/complaint/{reference}/withdraw", response_class=HTMLResponse)
async def confirm_withdrawal(services: ServicesDep, page: SignedInPage) -> Response:
    """Withdrawing takes a confirmation: one click on the complaint page never withdraws it."""
    if isinstance(page, HTMLResponse):
        return page
    return await withdraw_page(services, page.access, page.session)


async def withdraw_page(
    services: Services,
    access: ResidentAccess,
    token: str,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    seen = await view(services, access)
    if not seen.possible.withdraw:
        return see_other(f"/complaint/{seen.reference}")
    return render(
        "withdraw.html", status_code, c=seen, form=form or {}, errors=errors or {}, form_key=form_key(token)
    )


@router.post("/complaint/{reference}/{action}", response_class=HTMLResponse)
async def complaint_action(
    reference: str,
    action: str,
    request: Request,
    services: ServicesDep,
    request_id: RequestId,
    page: SignedInPage,
) -> Response:
    if isinstance(page, HTMLResponse):
        return page
    if action not in ACTIONS:
        return not_found("Page not found", "There is no such page.")
    access, token = page.access, page.session
    form = {key: str(value) for key, value in (await request.form()).items()}
    if not same(form.get("form_key", ""), form_key(token)):
        # A form from somewhere else (or a page from before a new code): show the page again, fresh.
        return see_other(f"/complaint/{reference}")
    done, refusal = ACTIONS[action]
    try:
        if action == "information":
            body = InformationBody.model_validate({"summary": form.get("summary", "")})
            await actions.send_information(services, access, body, request_id)
        elif action == "review":
            review = EscalationBody.model_validate(
                {"reasons": form.get("reasons", ""), "outcome_wanted": form.get("outcome_wanted", "")}
            )
            await actions.ask_for_review(services, access, review, request_id)
        elif action == "extension":
            if not (await view(services, access)).possible.answer_extension:
                return see_other(f"/complaint/{reference}")  # nothing asked (or answered already)
            answer, wrong = extension_answer_from(form, access.record.respond_by)
            if wrong:
                errors = {"up_to-day": wrong}
                return await status_page(services, access, token, form=form, errors=errors, status_code=422)
            await actions.answer_extension(services, access, answer, request_id)
        else:
            reason = WithdrawBody.model_validate({"reason": form.get("reason", "")})
            await actions.withdraw(services, access, reason, request_id)
    except ValidationError as error:
        errors = field_errors(error)
        if action == "withdraw":
            return await withdraw_page(services, access, token, form=form, errors=errors, status_code=422)
        return await status_page(services, access, token, form=form, errors=errors, status_code=422)
    except ProblemError as error:
        named = FIELD_REFUSAL.match(error.problem.detail or "")
        if error.problem.status == 422 and action == "extension":  # agreed, without the date agreed to
            errors = {"up_to-day": FIELD_LABELS["up_to"]}
        elif named and named["field"] in ANSWER_FIELDS:  # a refusal naming the answer it needs (council-004)
            errors = {named["field"]: named["message"][:1].upper() + named["message"][1:]}
            return await status_page(services, access, token, form=form, errors=errors, status_code=422)
        else:  # the workflow's refusal, with its reason
            field = FIELD_OF[action]
            errors = {field: f"{refusal}: {for_resident(error.problem.detail or 'it is not possible now')}"}
        page = await status_page(
            services, access, token, form=form, errors=errors, status_code=error.problem.status
        )
        page.headers.update(error.headers or {})  # the daily limit's Retry-After, as the API gives it
        return page
    return see_other(f"/complaint/{reference}?done={done}")
