"""Bulk reassignment from a queue (managers): one `assign` action per complaint, through the same function as
the API (api.casework.perform_action), each refused one listed with the reason the rules gave."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.casework import perform_action, visible_complaint
from api.deps import request_id as request_id_of
from api.errors import ProblemError
from domain.models import Role
from store.complaints import NotFound
from web.layout import page
from web.staff.common import layout, services_of
from web.staff.queues import BY_SLUG
from web.staff.session import StaffSession, check_form, signed_in

router = APIRouter(prefix="/staff", include_in_schema=False)
MAX_AT_ONCE = 100
STALE = "it changed after the queue was shown (someone acted on it): open it to see what happened"


def may_bulk_reassign(role: Role) -> bool:
    return role is Role.MANAGER


@router.post("/bulk-reassign")
async def bulk_reassign(request: Request, session: Annotated[StaffSession, Depends(signed_in)]) -> Response:
    form = await request.form()
    token = form.get("csrf_token")
    check_form(session, token if isinstance(token, str) else None)
    queue = BY_SLUG.get(str(form.get("queue", "")), BY_SLUG["unassigned"])
    context = layout(session, "queues") | {"queue": queue}
    if not may_bulk_reassign(session.staff.role):
        return page(
            "staff/refused.html",
            403,
            heading="You cannot do this",
            message="Only managers reassign complaints in bulk.",
            **context,
        )
    references = [str(value) for value in form.getlist("reference")][:MAX_AT_ONCE]
    assignee = str(form.get("assignee", "")).strip()
    errors: dict[str, str] = {}
    if not references:
        errors["reference"] = "Select at least one complaint"
    if not assignee:
        errors["assignee"] = "Enter the staff id to reassign the complaints to"
    if errors:
        return page("staff/bulk.html", 422, errors=errors, done=[], failed=[], assignee=assignee, **context)
    services = services_of(request)
    done: list[str] = []
    failed: list[tuple[str, str]] = []
    for reference in references:
        # The complaint's sequence as the queue showed it: one someone acted on since is left as it is, as
        # any console form does (a colleague's assignment meanwhile is not silently undone).
        shown = form.get(f"seq-{reference}")
        seq = int(shown) if isinstance(shown, str) and shown.isdigit() and len(shown) < 10 else None
        try:
            complaint = await visible_complaint(services.pool, session.staff, reference)
            if seq is not None and seq != complaint.last_seq:
                failed.append((reference, STALE))
                continue
            await perform_action(
                pool=services.pool,
                temporal=services.temporal,
                staff=session.staff,
                action="assign",
                complaint=complaint,
                body={"assignee": assignee},
                request_body={"assignee": assignee, "bulk": True},
                expected_seq=seq,
                request_id=request_id_of(),
            )
            done.append(reference)
        except NotFound:
            failed.append((reference, "not found"))
        except ProblemError as error:
            problem = error.problem
            failed.append((reference, STALE if problem.status == 412 else problem.detail or problem.title))
    return page("staff/bulk.html", errors={}, done=done, failed=failed, assignee=assignee, **context)
