"""Reports for managers, auditors and admins: the performance figures (JSON or CSV), the annual report and the
self-assessment against the Complaint Handling Code. Every figure is computed in SQL (store/reports.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import CurrentStaff, Policies, Pool, require
from api.errors import PROBLEM_RESPONSES, ProblemError
from domain.policy import Policy
from reporting.annual import annual_figures, render_annual
from reporting.files import csv_of, performance_filename
from reporting.self_assessment import render_self_assessment, self_assessment
from store import reports
from store.staff import StaffUser

router = APIRouter(prefix="/api/reports", tags=["reports"])

# A report is a year or so; a longer span is allowed, but not one a typo made (from 2027 to 2207).
MAX_SPAN_DAYS = 10 * 366


def _policy(policies: dict[str, Policy], policy_id: str | None) -> Policy | None:
    if policy_id is None:
        return None
    policy = policies.get(policy_id)
    if policy is None:
        raise ProblemError(422, "Invalid request", f"policy_id: unknown policy {policy_id!r}")
    return policy


def _area_for(staff: StaffUser, service_area: str | None) -> str | None:
    """Need-to-know on reports: staff limited to service areas see figures of their areas only (one at a
    time: the only one they have, or the one they ask for); 403 otherwise."""
    if staff.service_areas is None:
        return service_area
    if service_area is None and len(staff.service_areas) == 1:
        return staff.service_areas[0]
    if service_area is not None and service_area in staff.service_areas:
        return service_area
    raise ProblemError(
        403,
        "Not allowed",
        f"you deal with {', '.join(staff.service_areas)} only: ask for one of them (service_area)",
        "need-to-know",
    )


def _whole_council(staff: StaffUser) -> None:
    if staff.service_areas is not None:
        raise ProblemError(
            403,
            "Not allowed",
            "this report covers every service area: ask for the performance report of your area",
            "need-to-know",
        )


def _period(start: date, end: date) -> None:
    # The service's dates are 2000 to 2099 (domain/inputs.py); date arithmetic past 9999 would overflow.
    for name, day in (("from", start), ("to", end)):
        if not 2000 <= day.year <= 2100:
            raise ProblemError(422, "Invalid request", f"{name}: a date from 2000 to 2100 is needed")
    if end < start:
        raise ProblemError(422, "Invalid request", "to: must be on or after from")
    if (end - start).days > MAX_SPAN_DAYS:
        raise ProblemError(422, "Invalid request", "to: a report covers at most ten years")


@router.get("/performance", responses={**PROBLEM_RESPONSES, 200: {"content": {"text/csv": {}}}})
async def performance(
    staff: CurrentStaff,
    pool: Pool,
    policies: Policies,
    start: Annotated[date, Query(alias="from", description="First local date of receipt (inclusive)")],
    end: Annotated[date, Query(alias="to", description="Last local date of receipt (inclusive)")],
    policy_id: Annotated[str | None, Query(max_length=63)] = None,
    service_area: Annotated[str | None, Query(max_length=100)] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """Complaints per stage, on time, outcomes, escalation, remedies, actions and the ombudsman."""
    require("reports", staff)
    _period(start, end)
    service_area = _area_for(staff, service_area)
    policy = _policy(policies, policy_id)
    report = await reports.performance(
        pool,
        start=start,
        end=end,
        policy_id=policy_id,
        service_area=service_area,
        homes=policy.homes if policy else None,
    )
    if format == "csv":
        filename = performance_filename(start, end)
        return Response(
            csv_of(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return JSONResponse(report)


Year = Annotated[int, Query(ge=2000, le=2100, description="Financial year starting 1 April of this year")]


def today() -> date:
    return datetime.now(UTC).date()


@router.get("/annual", response_class=HTMLResponse, responses=PROBLEM_RESPONSES)
async def annual(
    staff: CurrentStaff,
    pool: Pool,
    policies: Policies,
    year: Year,
    policy_id: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The annual complaints performance and service improvement report: one printable HTML page."""
    require("reports", staff)
    _whole_council(staff)
    policy = _policy(policies, policy_id)
    figures = await annual_figures(pool, year=year, policy=policy)
    return HTMLResponse(render_annual(figures, year=year, policy=policy, generated_on=today()))


@router.get("/self-assessment", responses={**PROBLEM_RESPONSES, 200: {"content": {"text/html": {}}}})
async def self_assessment_report(
    staff: CurrentStaff,
    pool: Pool,
    policies: Policies,
    policy_id: Annotated[str, Query(max_length=63)],
    year: Year,
    format: Annotated[Literal["json", "html"], Query()] = "json",
) -> Response:
    """The Complaint Handling Code provisions the service enforces or measures, with the year's evidence."""
    require("reports", staff)
    _whole_council(staff)
    policy = _policy(policies, policy_id)
    assert policy is not None
    assessment = await self_assessment(pool, policy=policy, year=year)
    if format == "html":
        return HTMLResponse(render_self_assessment(assessment))
    return JSONResponse(assessment)
