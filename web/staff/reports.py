"""The reports in the console (issue 25: "links to the reports"), signed in with the console's session: the
performance report (CSV), the annual report and the self-assessment (HTML). Each page calls the API's own
report function (api/routes/reports.py) with the signed-in staff member, so the role check, need-to-know by
service area and the audit row are the API's; a refusal is a page, not problem+json."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.errors import ProblemError
from api.permissions import allowed
from api.routes import reports as api_reports
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
    if not value.isdigit():
        raise ProblemError(422, "Invalid request", "year: enter a year, for example 2026")
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


async def _run(session: Session, call: Any) -> Response:
    try:
        answer: Response = await call
    except ProblemError as error:
        return _refused(session, error.problem.status, error.problem.detail or error.problem.title)
    return answer


@router.get("/performance.csv")
async def performance_csv(request: Request, session: Session) -> Response:
    asked = request.query_params
    services = services_of(request)
    try:
        start, end = _date(asked.get("from", ""), "from"), _date(asked.get("to", ""), "to")
    except ProblemError as error:
        return _refused(session, 422, error.problem.detail or "")
    call = api_reports.performance(
        staff=session.staff,
        pool=services.pool,
        policies=services.policies,
        start=start,
        end=end,
        policy_id=asked.get("policy_id") or None,
        service_area=asked.get("service_area") or None,
        format="csv",
        homes_owned=None,
        homes_low_cost_rental=None,
        homes_low_cost_home_ownership=None,
    )
    return await _run(session, call)


@router.get("/annual")
async def annual(request: Request, session: Session) -> Response:
    services = services_of(request)
    try:
        year = _year(request.query_params.get("year", ""))
    except ProblemError as error:
        return _refused(session, 422, error.problem.detail or "")
    call = api_reports.annual(
        staff=session.staff,
        pool=services.pool,
        policies=services.policies,
        year=year,
        policy_id=request.query_params.get("policy_id") or None,
    )
    return await _run(session, call)


@router.get("/self-assessment")
async def self_assessment(request: Request, session: Session) -> Response:
    services = services_of(request)
    try:
        year = _year(request.query_params.get("year", ""))
    except ProblemError as error:
        return _refused(session, 422, error.problem.detail or "")
    policy_id = request.query_params.get("policy_id", "")
    if policy_id not in services.policies:
        return _refused(session, 422, "Choose the council the self-assessment is for.")
    call = api_reports.self_assessment_report(
        staff=session.staff,
        pool=services.pool,
        policies=services.policies,
        policy_id=policy_id,
        year=year,
        format="html",
    )
    return await _run(session, call)
