"""The reports in the console (issue 25: "links to the reports"), signed in with the console's session: the
performance report (CSV), the annual report and the self-assessment (HTML). Each page calls the API's own
report function (api/routes/reports.py) with the signed-in staff member, so the role check, need-to-know by
service area and the audit row are the API's; a refusal is a page, not problem+json."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.errors import ProblemError
from api.permissions import allowed
from api.routes import reports as api_reports
from domain.policy import Policy
from web.layout import page
from web.staff.common import layout, services_of
from web.staff.session import StaffSession, signed_in

router = APIRouter(prefix="/staff/reports", include_in_schema=False)
Session = Annotated[StaffSession, Depends(signed_in)]


def _refused(session: StaffSession, status: int, message: str) -> Response:
    return page(
        "staff/refused.html",
        status,
        heading="This report cannot be shown",
        message=message,
        back="/staff/reports",
        back_text="Back to the reports",
        **layout(session, "dashboard"),
    )


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ProblemError(422, "Invalid request", f"{name}: enter a date, for example 2026-04-01") from None


def _year(value: str) -> int:
    """The year asked for, within the API's bounds: the console calls the report function directly, past
    the API's own check of its query (a year past 9999 was an internal error)."""
    if not value.isdigit():
        raise ProblemError(422, "Invalid request", "year: enter a year, for example 2026")
    if not api_reports.FIRST_YEAR <= int(value) <= api_reports.LAST_YEAR:
        raise ProblemError(
            422,
            "Invalid request",
            f"year: enter a year from {api_reports.FIRST_YEAR} to {api_reports.LAST_YEAR}, for example 2026",
        )
    return int(value)


@router.get("")
async def reports_page(request: Request, session: Session) -> Response:
    if not allowed("reports", session.staff.role):
        return _refused(session, 403, "Your role does not see the reports.")
    today = date.today()
    year = today.year if today.month >= 4 else today.year - 1  # the financial year in progress
    context: dict[str, Any] = {
        "policies": sorted(services_of(request).policies.values(), key=lambda policy: policy.name),
        "year": year,
        "start": date(year, 4, 1),
        "today": today,
        "areas": session.staff.service_areas,
    }
    return page("staff/reports.html", **context, **layout(session, "dashboard"))


async def _report(session: StaffSession, report: Callable[[], Awaitable[Response]]) -> Response:
    """The API's report, or a refusal page for whatever is wrong with the asking: a date or year this page
    could not read (422, raised as `report()` reads the query) or the API's own refusal (its role check,
    need-to-know, a bad period), with the problem's status and detail."""
    try:
        return await report()
    except ProblemError as error:
        return _refused(session, error.problem.status, error.problem.detail or error.problem.title)


@router.get("/performance.csv")
async def performance_csv(request: Request, session: Session) -> Response:
    asked = request.query_params
    services = services_of(request)
    return await _report(
        session,
        lambda: api_reports.performance(
            staff=session.staff,
            pool=services.pool,
            policies=services.policies,
            start=_date(asked.get("from", ""), "from"),
            end=_date(asked.get("to", ""), "to"),
            policy_id=asked.get("policy_id") or None,
            service_area=asked.get("service_area") or None,
            format="csv",
            homes_owned=None,
            homes_low_cost_rental=None,
            homes_low_cost_home_ownership=None,
        ),
    )


@router.get("/annual")
async def annual(request: Request, session: Session) -> Response:
    asked = request.query_params
    services = services_of(request)
    return await _report(
        session,
        lambda: api_reports.annual(
            staff=session.staff,
            pool=services.pool,
            policies=services.policies,
            year=_year(asked.get("year", "")),
            policy_id=asked.get("policy_id") or None,
        ),
    )


def _council(policy_id: str, policies: dict[str, Policy]) -> str:
    if policy_id not in policies:
        raise ProblemError(422, "Invalid request", "Choose the council the self-assessment is for.")
    return policy_id


@router.get("/self-assessment")
async def self_assessment(request: Request, session: Session) -> Response:
    asked = request.query_params
    services = services_of(request)
    return await _report(
        session,
        lambda: api_reports.self_assessment_report(
            staff=session.staff,
            pool=services.pool,
            policies=services.policies,
            year=_year(asked.get("year", "")),
            policy_id=_council(asked.get("policy_id", ""), services.policies),
            format="html",
        ),
    )
