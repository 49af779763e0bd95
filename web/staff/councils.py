"""The councils' policies in plain English (issue 28, point 7: "the console shows the same explanation on the
council's page"): each policy file explained by the API's own function (GET /api/policies/{id}/explanation),
with a worked example date for each window, so a complaints manager can check the file against the council's
published procedure without reading TOML."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.errors import ProblemError
from api.routes.policies import explain_policy
from web.layout import page
from web.staff.common import layout, services_of
from web.staff.session import StaffSession, signed_in

router = APIRouter(prefix="/staff/councils", include_in_schema=False)
Session = Annotated[StaffSession, Depends(signed_in)]


@router.get("")
async def councils(request: Request, session: Session) -> Response:
    policies = sorted(services_of(request).policies.values(), key=lambda policy: policy.name)
    return page("staff/councils.html", policies=policies, **layout(session, "councils"))


@router.get("/{policy_id}")
async def council(request: Request, policy_id: str, session: Session, received: str = "") -> Response:
    policies = services_of(request).policies
    policy = policies.get(policy_id)
    if policy is None:
        return page("staff/refused.html", 404, heading="Council not found", message="", **layout(session))
    error = ""
    example: date | None = None
    if received:
        try:
            example = date.fromisoformat(received)
        except ValueError:
            error = "Enter the date of receipt as a date, for example 2027-03-17"
    try:
        sections = await explain_policy(policy_id, policies, example)
    except ProblemError as problem:
        error, sections = (
            problem.problem.detail or problem.problem.title,
            await explain_policy(policy_id, policies, None),
        )
    return page(
        "staff/council.html",
        422 if error else 200,
        policy=policy,
        sections=sections,
        received=received,
        error=error,
        errors={"received": error} if error else {},
        **layout(session, "councils"),
    )
