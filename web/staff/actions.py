"""The actions as forms: one page per action the staff member may take now (web.staff.case.offered_actions),
its fields derived from the action's command (web/staff/forms.py), sent through the same function the JSON
API runs (api.casework.perform_action). The form carries the complaint's event sequence (its ETag): if
someone else acted since the page was opened, the officer gets a page saying so, not a 412."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.casework import perform_action
from api.deps import request_id as request_id_of
from api.errors import ProblemError
from api.response_drafts import waiting_draft
from api.routes.actions import body_model
from domain.actions import ACTIONS, Action
from domain.policy import Policy
from store.complaints import ComplaintRecord
from web.layout import page
from web.staff.case import case_or_page, offered_actions, situation_of
from web.staff.common import layout, services_of
from web.staff.forms import fields_of, read_form
from web.staff.preview import LETTER_ACTIONS, preview_page
from web.staff.session import StaffSession, check_form, signed_in

router = APIRouter(prefix="/staff", include_in_schema=False)
Session = Annotated[StaffSession, Depends(signed_in)]


def choices_for(policy: Policy | None, record: ComplaintRecord) -> dict[str, list[tuple[str, str]]]:
    """Fields whose answers come from the council's policy or the case, not the command's type."""
    found: dict[str, list[tuple[str, str]]] = {}
    if policy is not None:
        found["exclusion_code"] = [(item.code, item.label) for item in policy.exclusions]
        found["root_cause"] = [(cause, cause.replace("-", " ").capitalize()) for cause in policy.root_causes]
    promised = [item for item in record.promised_actions() if not item.get("done_at")]
    found["action_id"] = [(str(item["id"]), str(item.get("description", item["id"]))) for item in promised]
    return found


def action_named(slug: str) -> Action | None:
    return ACTIONS.get(slug.replace("-", "_"))


async def _form_page(
    request: Request,
    session: StaffSession,
    record: ComplaintRecord,
    action: Action,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    seq: int | None = None,
) -> Response:
    services = services_of(request)
    policy = services.policies.get(record.policy_id)
    model = body_model(action.command)
    draft = None
    if action.name in ("approve_response", "return_response"):
        draft = await waiting_draft(services.pool, record.reference)  # what the manager decides on
    return page(
        "staff/action.html",
        status_code,
        c=record,
        action=action,
        previews=action.name in LETTER_ACTIONS,
        draft=draft,
        fields=fields_of(model, choices_for(policy, record)),
        errors=errors or {},
        typed=typed or {},
        seq=record.last_seq if seq is None else seq,
        **layout(session, "queues"),
    )


async def _checked(
    request: Request, session: StaffSession, reference: str, slug: str
) -> tuple[ComplaintRecord, Action] | Response:
    found = await case_or_page(request, session, reference)
    if isinstance(found, Response):
        return found
    action = action_named(slug)
    offered = offered_actions(
        session.staff.role, found.status, found.stage, await situation_of(request, found)
    )
    if action is None or action.name not in offered:
        return page(
            "staff/refused.html",
            403,
            heading="You cannot do this now",
            message="This action is not open to you on this complaint in its current state.",
            back=f"/staff/complaints/{found.reference}",
            back_text=f"Back to {found.reference}",
            **layout(session, "queues"),
        )
    return found, action


@router.get("/complaints/{reference}/act/{slug}")
async def action_form(request: Request, reference: str, slug: str, session: Session) -> Response:
    checked = await _checked(request, session, reference, slug)
    if isinstance(checked, Response):
        return checked
    return await _form_page(request, session, *checked)


def stale_page(session: StaffSession, record: ComplaintRecord) -> Response:
    return page(
        "staff/refused.html",
        409,
        heading="Someone else acted on this complaint",
        message="The complaint changed after you opened this page, so nothing was done. Open it again to see"
        " what happened, then decide whether your action is still needed.",
        back=f"/staff/complaints/{record.reference}",
        back_text=f"Open {record.reference} again",
        **layout(session, "queues"),
    )


@router.post("/complaints/{reference}/act/{slug}")
async def send_action(request: Request, reference: str, slug: str, session: Session) -> Response:
    form = await request.form()
    token = form.get("csrf_token")
    check_form(session, token if isinstance(token, str) else None)
    checked = await _checked(request, session, reference, slug)
    if isinstance(checked, Response):
        return checked
    record, action = checked
    raw_seq = form.get("seq")
    seq = int(raw_seq) if isinstance(raw_seq, str) and raw_seq.isdigit() else -1
    if seq != record.last_seq:
        return stale_page(session, record)
    body, errors, typed = read_form(form, body_model(action.command))
    if body is None:
        return await _form_page(
            request, session, record, action, status_code=422, errors=errors, typed=typed, seq=seq
        )
    intent = form.get("intent")
    if intent == "change":  # back from the letter's preview to the form as it was typed
        return await _form_page(request, session, record, action, typed=typed, seq=seq)
    if intent == "preview":
        shown = await preview_page(request, session, record, action, body, form, seq)
        if isinstance(shown, ProblemError):
            message = {"form": shown.problem.detail or shown.problem.title}
            return await _form_page(
                request,
                session,
                record,
                action,
                status_code=shown.problem.status,
                errors=message,
                typed=typed,
            )
        return shown
    services = services_of(request)
    try:
        await perform_action(
            pool=services.pool,
            temporal=services.temporal,
            staff=session.staff,
            action=action.name,
            complaint=record,
            body=body.model_dump(),
            request_body=body.model_dump(mode="json"),
            expected_seq=seq,
            request_id=request_id_of(),
        )
    except ProblemError as error:
        if error.problem.status == 412:
            return stale_page(session, record)
        if error.problem.status in (409, 422):
            detail = error.problem.detail or error.problem.title
            where, _, why = detail.partition(": ")
            # A refusal about one field (a service area not the policy's) is shown beside that field.
            field = where if why and where in action.command.model_fields and where != "actor" else None
            return await _form_page(
                request,
                session,
                record,
                action,
                status_code=error.problem.status,
                errors={field: why} if field else {"form": detail},
                typed=typed,
                seq=seq,
            )
        raise
    return RedirectResponse(f"/staff/complaints/{record.reference}?done={action.name}", status_code=303)
