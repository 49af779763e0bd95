"""Send a resident a new access code from the case page (api/access_codes.py, the API's own function): a
page that says who gets it, how, and that every earlier code stops working, then one button. By e-mail the
case page says it was sent; by post the answer is the letter to print, shown once (it holds the code)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.access_codes import ACTION, issue_new_code, refusal, who_and_how
from api.deps import request_id as request_id_of
from api.errors import ProblemError
from api.permissions import allowed
from store.complaints import ComplaintRecord
from web.layout import page
from web.staff.case import case_or_page
from web.staff.common import layout, services_of
from web.staff.session import StaffSession, check_form, signed_in

router = APIRouter(prefix="/staff", include_in_schema=False)
Session = Annotated[StaffSession, Depends(signed_in)]


async def _case(request: Request, session: StaffSession, reference: str) -> ComplaintRecord | Response:
    """The complaint if this staff member may issue it a code now, else the page saying why not."""
    found = await case_or_page(request, session, reference)
    if isinstance(found, Response):
        return found
    problem = (
        ProblemError(403, "Not allowed", f"a {session.staff.role.value} may not issue an access code")
        if not allowed(ACTION, session.staff.role)
        else await refusal(services_of(request), found)
    )
    if problem is not None:
        return page(
            "staff/refused.html",
            problem.problem.status,
            heading=problem.problem.title,
            message=problem.problem.detail or "",
            back=f"/staff/complaints/{found.reference}",
            back_text=f"Back to {found.reference}",
            **layout(session, "queues"),
        )
    return found


@router.get("/complaints/{reference}/access-code")
async def access_code_form(request: Request, reference: str, session: Session) -> Response:
    found = await _case(request, session, reference)
    if isinstance(found, Response):
        return found
    plan = who_and_how(services_of(request), found)
    return page("staff/access_code.html", c=found, plan=plan, **layout(session, "queues"))


@router.post("/complaints/{reference}/access-code")
async def send_access_code(request: Request, reference: str, session: Session) -> Response:
    token = (await request.form()).get("csrf_token")
    check_form(session, token if isinstance(token, str) else None)
    found = await _case(request, session, reference)
    if isinstance(found, Response):
        return found
    issued = await issue_new_code(services_of(request), session.staff, found, request_id=request_id_of())
    if issued.letter is None:
        return RedirectResponse(f"/staff/complaints/{found.reference}?done={ACTION}", status_code=303)
    # The letter holds the code: this answer is the only place it is shown (no-store, as every page).
    return page("staff/access_code_letter.html", c=found, issued=issued, **layout(session, "queues"))
