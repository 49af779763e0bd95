"""Reports for managers, auditors and admins: the performance figures (JSON or CSV), the annual report and the
self-assessment against the Complaint Handling Code. Every figure is computed in SQL (store/reports.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import CurrentStaff, Policies, Pool, request_id, require, whole_council_only
from api.errors import PROBLEM_RESPONSES, ProblemError, known_policy
from api.report_period import report_period
from domain.policy import Policy
from domain.tsm import Tenure
from reporting.annual import annual_figures, render_annual
from reporting.files import csv_of, performance_filename
from reporting.self_assessment import render_self_assessment, self_assessment
from store import report_indicators, reports
from store.audit import AuditRepository
from store.staff import StaffUser

router = APIRouter(prefix="/api/reports", tags=["reports"])

HOMES_OWNED = "Homes owned for the per-1,000-homes rates (default: the policy's `homes`)"

# A report is a year or so; a longer span is allowed, but not one a typo made (from 2027 to 2207).


async def _audit(pool: asyncpg.Pool, staff: StaffUser, report: str, **asked: Any) -> None:
    """Every report read goes to the audit trail with what was asked (figures only: no personal data), from
    the API and the console alike (web/staff/reports.py calls these same functions)."""
    await AuditRepository(pool).append_by(
        staff,
        f"report_{report}",
        reference=None,
        request_id=request_id(),
        after=asked,  # dates and codes, kept as they are by the audit's redaction
    )


def _policy(policies: dict[str, Policy], policy_id: str | None) -> Policy | None:
    if policy_id is None:
        return None
    return known_policy(policies, policy_id)


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
    homes_owned: Annotated[int | None, Query(ge=1, le=10_000_000, description=HOMES_OWNED)] = None,
    homes_low_cost_rental: Annotated[int | None, Query(ge=1, le=10_000_000)] = None,
    homes_low_cost_home_ownership: Annotated[int | None, Query(ge=1, le=10_000_000)] = None,
) -> Response:
    """Complaints per stage, on time, outcomes, escalation, remedies, actions and the ombudsman; `tsm`: the
    Regulator's CH01 and CH02 on the Complaint Handling Code's clock."""
    require("reports", staff)
    report_period(start, end)
    service_area = _area_for(staff, service_area)
    policy = _policy(policies, policy_id)
    by_tenure = dict(policy.homes_by_tenure) if policy else {}
    for tenure, homes in (
        (Tenure.LOW_COST_RENTAL, homes_low_cost_rental),
        (Tenure.LOW_COST_HOME_OWNERSHIP, homes_low_cost_home_ownership),
    ):
        if homes is not None:
            by_tenure[tenure] = homes
    report = await reports.performance(
        pool,
        start=start,
        end=end,
        policy_id=policy_id,
        service_area=service_area,
        homes=homes_owned or (policy.homes if policy else None),
        homes_by_tenure=by_tenure,
        reader=staff.id,  # issue 29 (11): complaints closed to the reader are left out of their figures
    )
    await _audit(pool, staff, "performance", start=start, end=end, policy_id=policy_id, area=service_area)
    if format == "csv":
        filename = performance_filename(start, end)
        return Response(
            csv_of(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return JSONResponse(report)


@router.get("/indicators", responses=PROBLEM_RESPONSES)
async def ombudsman_indicators(
    staff: CurrentStaff,
    pool: Pool,
    policies: Policies,
    policy_id: Annotated[str, Query(max_length=63)],
    start: Annotated[date, Query(alias="from", description="First local date of receipt (inclusive)")],
    end: Annotated[date, Query(alias="to", description="Last local date of receipt (inclusive)")],
    population: Annotated[
        int | None,
        Query(ge=1, le=100_000_000, description="Residents of the area (default: the policy's `population`)"),
    ] = None,
) -> JSONResponse:
    """The ombudsman's complaint indicators for the council's nation: the SPSO's for a council under the
    SPSO, the PSOW's complaint data for one under the PSOW (`set` says which). A whole-council report, as
    the annual one: not for staff limited to service areas."""
    require("reports", staff)
    whole_council_only(staff)
    report_period(start, end)
    policy = _policy(policies, policy_id)
    assert policy is not None
    if report_indicators.indicator_set(policy) is None:
        raise ProblemError(
            422,
            "Invalid request",
            f"policy_id: {policy_id!r} reports to the {policy.ombudsman.body.value}, which asks for no"
            " indicator set here (the SPSO's and the PSOW's are given); see tsm in /api/reports/performance",
        )
    figures = await report_indicators.indicators(
        pool,
        policy=policy,
        start=start,
        end=end,
        population=population or policy.population,
        reader=staff.id,  # issue 29: complaints closed to the reader are left out of their figures
    )
    await _audit(pool, staff, "indicators", start=start, end=end, policy_id=policy_id)
    return JSONResponse(figures)


# The years a report may be asked for (the service's dates, api/report_period.py); the console's report
# links read the year from their address and check it against the same bounds.
FIRST_YEAR, LAST_YEAR = 2000, 2100
Year = Annotated[
    int, Query(ge=FIRST_YEAR, le=LAST_YEAR, description="Financial year starting 1 April of this year")
]


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
    whole_council_only(staff)
    policy = _policy(policies, policy_id)
    figures = await annual_figures(pool, year=year, policy=policy, reader=staff.id)
    await _audit(pool, staff, "annual", year=year, policy_id=policy_id)
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
    whole_council_only(staff)
    policy = _policy(policies, policy_id)
    assert policy is not None
    assessment = await self_assessment(pool, policy=policy, year=year, reader=staff.id)
    await _audit(pool, staff, "self_assessment", year=year, policy_id=policy_id)
    if format == "html":
        return HTMLResponse(render_self_assessment(assessment))
    return JSONResponse(assessment)
