"""Issue 28, point 2: during early resolution the resident may ask for an investigation themselves; Stage 1's
clock then starts from their request (the action table's `start_investigation`, because `requested`, dated
when the request arrives: the workflow's now). A button on the resident's complaint page (a form, no
JavaScript, with the page's form key) and a public API endpoint, both through `ask_for_investigation`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import RequestId, ServicesDep
from api.early_resolution import at_early_resolution
from api.errors import ProblemError
from api.resident import actions as resident_actions
from api.resident import held_actions, service
from api.resident.service import ResidentAccess, ResidentComplaintView
from api.resident.tokens import form_key, same
from api.routes.public import RESPONSES, Resident
from core.services import Services
from domain import commands as cmd
from store.complaints import ComplaintRecord
from web.resident.complaint import status_page
from web.resident.pages import see_other
from web.resident.session import SignedInPage

router = APIRouter(tags=["residents"])
DONE = "investigation"


def may_ask(services: Services, record: ComplaintRecord) -> bool:
    """Is the complaint at early resolution, so that the resident's page offers the button?"""
    return at_early_resolution(services.policies.get(record.policy_id), record)


async def ask_for_investigation(
    services: Services, access: ResidentAccess, request_id: str
) -> ComplaintRecord:
    """The resident's request: Stage 1 starts now. Refused (409, with the reason) once early resolution
    has ended or where the policy has no such step."""
    if access.held is not None:
        # Held in triage (api/resident/withheld.py): the request is kept with the item for the officer.
        await held_actions.ask_for_investigation(services, access, request_id)
        return access.record
    command = cmd.StartInvestigation(actor=access.actor, because="requested")
    return await resident_actions.act(services, access, "start_investigation", command, request_id, {})


@router.post("/api/public/complaints/{reference}/investigation", responses=RESPONSES)
async def request_investigation(
    access: Resident, services: ServicesDep, request_id: RequestId
) -> ResidentComplaintView:
    """Ask for a full investigation while the complaint is at early resolution: the investigation's dates
    count from this request."""
    await ask_for_investigation(services, access, request_id)
    return await service.view(services, access)


@router.post("/complaint/{reference}/investigation", response_class=HTMLResponse)
async def investigation_form(
    reference: str, request: Request, services: ServicesDep, request_id: RequestId, page: SignedInPage
) -> Response:
    if isinstance(page, HTMLResponse):
        return page
    form = await request.form()
    key = form.get("form_key")
    if not isinstance(key, str) or not same(key, form_key(page.session)):
        return see_other(f"/complaint/{reference}")  # a form from elsewhere: the page again, fresh
    try:
        await ask_for_investigation(services, page.access, request_id)
    except ProblemError as error:
        message = f"We could not start an investigation: {error.problem.detail or 'it is not possible now'}"
        return await status_page(
            services, page.access, page.session, errors={"status-text": message}, status_code=409
        )
    return see_other(f"/complaint/{reference}?done={DONE}")
