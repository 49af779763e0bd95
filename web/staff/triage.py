"""The triage queue: the e-mails (and held web submissions) no complaint took, oldest first, and a page
per item with what an officer decides: open a complaint from it, link it to a complaint, record the request
for the next stage it makes (received when the e-mail arrived), record it as a service request, or dismiss
it with a reason. Each form runs through the same functions as the API (inbound/triage.py: the claim, the
409 for a second officer, the audit row); the role checks are the API's (`triage`, and `create`,
`add_information`, `request_escalation` for what those decisions do)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.casework import visible_complaint
from api.deps import request_id as request_id_of
from api.errors import ProblemError
from api.permissions import allowed
from inbound import triage
from inbound.store import InboundMessage, InboundRepository
from store.audit import AuditRepository
from store.complaints import ComplaintRecord, NotFound
from web.layout import page
from web.staff.common import layout, services_of
from web.staff.session import StaffSession, check_form, signed_in

router = APIRouter(prefix="/staff", include_in_schema=False)
Session = Annotated[StaffSession, Depends(signed_in)]
QUEUE_LIMIT = 200
TEXT_SHOWN = 2_000  # the start of the text on the item's page (the whole text stays in the API)
# What a redirect back to the queue may announce (a fixed list: nothing from the query string is shown).
DONE = {
    "dismissed": "Message dismissed.",
    "service_request": "Recorded as a service request.",
}
# Where a refusal of the request models is shown, per decision: the form's field ids.
FIELDS = {
    "open": {"policy_id": "open_policy_id", "service_area": "open_service_area", "complainant": "open_name"},
    "link": {"reference": "link_reference"},
    "escalation": {
        "reference": "esc_reference",
        "outcome_wanted": "esc_outcome_wanted",
        "accept_late_reason": "esc_accept_late_reason",
    },
    "service-request": {"policy_id": "sr_policy_id", "service_area": "sr_service_area"},
    "dismiss": {"reason": "dismiss_reason"},
}


def _refused(session: StaffSession, status: int, heading: str, message: str) -> Response:
    return page(
        "staff/refused.html",
        status,
        heading=heading,
        message=message,
        back="/staff/triage",
        back_text="Back to the triage queue",
        **layout(session, "triage"),
    )


def _no_triage(session: StaffSession) -> Response | None:
    if allowed("triage", session.staff.role):
        return None
    return _refused(
        session, 403, "You cannot triage e-mails", "Triage is for complaints officers and managers."
    )


async def _audit(request: Request, session: StaffSession, action: str, **facts: Any) -> None:
    await AuditRepository(services_of(request).pool).append_by(
        session.staff, action, reference=None, request_id=request_id_of(), after=facts
    )


@router.get("/triage")
async def triage_queue(request: Request, session: Session, done: str = "") -> Response:
    refused = _no_triage(session)
    if refused:
        return refused
    services = services_of(request)
    messages = await InboundRepository(services.pool).triage(limit=QUEUE_LIMIT)
    await _audit(request, session, "triage_list", count=len(messages))
    return page(
        "staff/triage_queue.html",
        items=await triage.items_of(services, messages),
        limit=QUEUE_LIMIT,
        done=DONE.get(done),
        **layout(session, "triage"),
    )


async def _item_page(
    request: Request,
    session: StaffSession,
    message: InboundMessage,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    services = services_of(request)
    staff = session.staff
    draft = await triage.intake_draft(services, message)
    text = message.text or ""
    # An open decision that failed part-way: the item belongs to that complaint (inbound/triage.py).
    open_begun = await InboundRepository(services.pool).open_begun(message.id)
    return page(
        "staff/triage_item.html",
        status_code,
        item=(await triage.items_of(services, [message]))[0],
        message=message,
        text=text[:TEXT_SHOWN],
        text_cut=len(text) > TEXT_SHOWN,
        draft=draft,
        policies=sorted(services.policies.values(), key=lambda policy: policy.name),
        form={
            "open_name": draft["complainant"].get("name") or "",
            "link_reference": message.candidate or "",
            "esc_reference": message.candidate or "",
            **(form or {}),
        },
        errors=errors or {},
        open_begun=open_begun,
        can_open=allowed("create", staff.role),
        can_link=allowed("add_information", staff.role, 1) or allowed("add_information", staff.role, 2),
        can_escalate=allowed("request_escalation", staff.role, 1),
        **layout(session, "triage"),
    )


async def _waiting_or_page(
    request: Request, session: StaffSession, inbound_id: uuid.UUID
) -> InboundMessage | Response:
    try:
        return await triage.waiting(services_of(request), inbound_id)
    except ProblemError as error:
        if error.problem.status == 404:
            return _refused(session, 404, "Message not found", "There is no such message in triage.")
        return _dealt_with(session, error.problem.detail or "")


def _dealt_with(session: StaffSession, detail: str) -> Response:
    return _refused(
        session,
        409,
        "Someone else dealt with this message",
        f"Nothing was done: {detail}. The queue shows what still waits.",
    )


def _opened_earlier(session: StaffSession, detail: str) -> Response:
    """An earlier decision on the message opened a complaint and failed before joining the message to it:
    it is joined now (inbound/triage.py), and the officer's decision was not taken."""
    return _refused(
        session,
        409,
        "This message had opened a complaint",
        f"Nothing else was done: {detail}.",
    )


@router.get("/triage/{inbound_id}")
async def triage_item(request: Request, inbound_id: uuid.UUID, session: Session) -> Response:
    refused = _no_triage(session)
    if refused:
        return refused
    found = await _waiting_or_page(request, session, inbound_id)
    if isinstance(found, Response):
        return found
    await _audit(request, session, "triage_read", inbound_id=str(inbound_id))
    return await _item_page(request, session, found)


def _field_of(decision: str, detail: str) -> tuple[str, str]:
    """The form field a refusal ('field: why') is about, and the why; the decision's first field otherwise."""
    where, _, why = detail.partition(": ")
    fields = FIELDS[decision]
    name = where.removeprefix("body.").split(".")[0]
    if why and name in fields:
        return fields[name], why
    return next(iter(fields.values())), detail


def _form_of(raw: Any) -> dict[str, str]:
    return {key: value.strip() for key, value in raw.items() if isinstance(value, str)}


async def _complaint(request: Request, session: StaffSession, reference: str) -> ComplaintRecord | str:
    """The complaint to join the message to, as this staff member may see it; or why not."""
    if not reference:
        return "Enter the reference of the complaint, like CMP-2026-000123"
    try:
        return await visible_complaint(services_of(request).pool, session.staff, reference.upper()[:40])
    except NotFound:
        return "There is no complaint with that reference you can see"
    except ProblemError as error:
        return error.problem.detail or error.problem.title


async def _decide(request: Request, session: StaffSession, inbound_id: uuid.UUID, decision: str) -> Response:
    """Check the form token, the role and that the item still waits, then carry out one decision."""
    form = _form_of(await request.form())
    check_form(session, form.get("csrf_token"))
    refused = _no_triage(session)
    if refused:
        return refused
    found = await _waiting_or_page(request, session, inbound_id)
    if isinstance(found, Response):
        return found
    try:
        return await _carry_out(request, session, found, decision, form)
    except ProblemError as error:
        problem = error.problem
        if problem.status == 409 and problem.type.endswith(("already-decided", "claim-lapsed")):
            return _dealt_with(session, problem.detail or "")
        if problem.status == 409 and problem.type == "opened-complaint":
            return _opened_earlier(session, problem.detail or "")
        if problem.status == 409 and problem.type == "open-unfinished":
            # Shown at the open form: opening it again finishes the complaint the earlier decision began.
            field = FIELDS["open"]["policy_id"]
            return await _item_page(
                request, session, found, status_code=409, errors={field: problem.detail or ""}, form=form
            )
        if problem.status in (403, 404, 409, 422):
            field, why = _field_of(decision, problem.detail or problem.title)
            return await _item_page(
                request, session, found, status_code=problem.status, errors={field: why}, form=form
            )
        raise
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        field = FIELDS[decision].get(name, next(iter(FIELDS[decision].values())))
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] in ("string_too_short", "missing"):
            message = "Enter this"
        return await _item_page(request, session, found, status_code=422, errors={field: message}, form=form)


async def _carry_out(
    request: Request, session: StaffSession, message: InboundMessage, decision: str, form: dict[str, str]
) -> Response:
    services = services_of(request)
    staff = session.staff
    request_id = request_id_of()
    if decision == "open":
        if not allowed("create", staff.role):
            raise ProblemError(403, "Not allowed", "policy_id: you may not open complaints")
        given: dict[str, Any] = {
            "policy_id": form.get("open_policy_id", ""),
            "service_area": form.get("open_service_area", ""),
        }
        if form.get("open_name"):
            given["complainant"] = {"name": form["open_name"]}
        reference = await triage.open_complaint(services, staff, message.id, given, request_id)
        return RedirectResponse(f"/staff/complaints/{reference}?done=create", status_code=303)
    if decision in ("link", "escalation"):
        prefix = "link" if decision == "link" else "esc"
        record = await _complaint(request, session, form.get(f"{prefix}_reference", ""))
        if isinstance(record, str):
            raise ProblemError(422, "Invalid request", f"reference: {record}")
        action = "add_information" if decision == "link" else "request_escalation"
        if not allowed(action, staff.role, record.stage):
            raise ProblemError(403, "Not allowed", f"reference: you may not do this on {record.reference}")
        if decision == "link":
            await triage.link(services, staff, message.id, record, request_id)
            return RedirectResponse(f"/staff/complaints/{record.reference}?done=add_information", 303)
        body = triage.EscalationFromEmail(
            reference=record.reference,
            outcome_wanted=form.get("esc_outcome_wanted", ""),
            accept_late_reason=form.get("esc_accept_late_reason") or None,
        )
        await triage.record_escalation(services, staff, message.id, record, body, request_id)
        return RedirectResponse(f"/staff/complaints/{record.reference}?done=request_escalation", 303)
    if decision == "service-request":
        request_body = triage.ServiceRequestFromEmail(
            policy_id=form.get("sr_policy_id", ""), service_area=form.get("sr_service_area", "")
        )
        await triage.record_service_request(services, staff, message.id, request_body, request_id)
        return RedirectResponse("/staff/triage?done=service_request", status_code=303)
    dismissal = triage.Dismissal(reason=form.get("dismiss_reason", ""))
    await triage.dismiss(services, staff, message.id, dismissal, request_id)
    return RedirectResponse("/staff/triage?done=dismissed", status_code=303)


@router.post("/triage/{inbound_id}/{decision}")
async def decide(request: Request, inbound_id: uuid.UUID, decision: str, session: Session) -> Response:
    if decision not in FIELDS:
        return _refused(session, 404, "Page not found", "There is no such decision.")
    return await _decide(request, session, inbound_id, decision)
