"""The managers' dashboard: open complaints by stage, overdue, due this week, the share answered on time
this year by month (an inline SVG chart, nothing fetched) and the same per service area, within the
manager's service areas (need-to-know)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.permissions import allowed
from store.dashboard import dashboard_figures
from web.layout import LONDON, page
from web.staff.common import layout, services_of
from web.staff.session import StaffSession, signed_in

router = APIRouter(prefix="/staff", include_in_schema=False)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@router.get("/dashboard")
async def dashboard(request: Request, session: Annotated[StaffSession, Depends(signed_in)]) -> Response:
    staff = session.staff
    if not allowed("reports", staff.role):
        return page(
            "staff/refused.html",
            403,
            heading="The dashboard is for managers",
            message="Your role does not see the team's figures.",
            **layout(session),
        )
    now = datetime.now(LONDON)
    sunday = now.date() + timedelta(days=6 - now.weekday())
    week_ends = datetime.combine(sunday + timedelta(days=1), time(0), tzinfo=LONDON)
    figures = await dashboard_figures(
        services_of(request).pool,
        areas=staff.service_areas,
        week_ends=week_ends,
        year=now.year,
        reader=staff.id,  # issue 29: complaints closed to the reader are left out of their figures
    )
    bars = []
    for index, month in enumerate(figures["on_time"]):
        share = round(100 * month["on_time"] / month["responded"]) if month["responded"] else None
        height = 0 if share is None else 1.6 * share
        bars.append(
            {
                "x": 40 + index * 45,
                "y": 180 - height,
                "height": height,
                "share": share,
                "label": MONTHS[index],
                **month,
            }
        )
    return page(
        "staff/dashboard.html",
        figures=figures,
        bars=bars,
        year=now.year,
        week_ends=sunday,
        **layout(session, "dashboard"),
    )
