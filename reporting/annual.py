"""The annual complaints performance and service improvement report, as one self-contained HTML page.

Landlords publish it each year with the Regulator of Social Housing's measures CH01 (complaints per 1,000
homes) and CH02 (the share answered within the Code's timescales); councils take the same figures to their
committees. The year is the financial year from 1 April, as those measures are. Figures come from
store/reports.py (computed in SQL); this module lays them out, with inline SVG charts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from domain.policy import Policy
from reporting.charts import bar_chart
from store import report_learning, reports
from store.annual_report_entries import entries
from store.complaints import Executor

TEMPLATES = Environment(loader=PackageLoader("reporting"), autoescape=select_autoescape(default=True))


def financial_year(year: int) -> tuple[date, date]:
    """1 April `year` to 31 March of the next year."""
    return date(year, 4, 1), date(year + 1, 3, 31)


def year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def _months(start: date) -> list[str]:
    return [
        date(start.year + (start.month - 1 + n) // 12, (start.month - 1 + n) % 12 + 1, 1).strftime("%Y-%m")
        for n in range(12)
    ]


def charts(report: dict[str, Any], extras: dict[str, Any], start: date) -> dict[str, Any]:
    months = _months(start)
    by_month = {entry["month"]: entry for entry in report["by_month"]}
    on_time = [
        (
            f"Stage {number}",
            [
                by_month[month][f"stage{number}"]["responded_on_time_percent"] if month in by_month else None
                for month in months
            ],
        )
        for number in (1, 2)
    ]
    outcomes = ["upheld", "partially_upheld", "not_upheld"]
    areas = report["by_service_area"]
    kinds = extras["remedies_by_kind"]
    return {
        "on_time": bar_chart(
            "Responses on time by month (%)",
            [date.fromisoformat(month + "-01").strftime("%b %Y") for month in months],
            on_time,
            maximum=100,
            unit="%",
        ),
        "outcomes": bar_chart(
            "Outcomes",
            [outcome.replace("_", " ") for outcome in outcomes],
            [
                (
                    f"Stage {number}",
                    [report[f"stage{number}"]["outcomes"].get(outcome, 0) for outcome in outcomes],
                )
                for number in (1, 2)
            ],
        ),
        "areas": bar_chart(
            "Complaints received by service area",
            [entry["service_area"] for entry in areas],
            [
                (f"Stage {number}", [entry[f"stage{number}"]["received"] for entry in areas])
                for number in (1, 2)
            ],
        ),
        "remedies": bar_chart(
            "Remedies by kind",
            [row["kind"].replace("_", " ") for row in kinds],
            [("Remedies", [row["count"] for row in kinds])],
        ),
    }


async def annual_figures(
    db: Executor, *, year: int, policy: Policy | None, reader: str | None = None
) -> dict[str, Any]:
    """The year's figures in one snapshot; for a `reader` (a staff member's id), without the complaints
    closed to them on reads (a declared conflict of interest, or naming them: store/reports.reading_for)."""
    start, end = financial_year(year)
    policy_id = policy.id if policy else None
    async with reports.reading_for(db, reader) as (snapshot, _):
        report = await reports.performance(
            snapshot,
            start=start,
            end=end,
            policy_id=policy_id,
            homes=policy.homes if policy else None,
            homes_by_tenure=policy.homes_by_tenure if policy else None,
            reader=reader,
        )
        extras: dict[str, Any] = await reports.remedies_and_learning(
            snapshot, start=start, end=end, policy_id=policy_id, reader=reader
        )
        # The kinds of complaints refused (the Code, section 8: the analysis includes them).
        extras["declined_by_exclusion"] = await reports.declined_by_exclusion(
            snapshot, start=start, end=end, policy_id=policy_id, reader=reader
        )
        # The improvements made from learning and the staff trained, from the records
        # (store/report_learning.py; complaints closed to the reader are left out by the snapshot).
        extras["learning"] = await report_learning.learning(
            snapshot, policy_id=policy_id, start=start, end=end
        )
        extras["staff_training"] = await report_learning.staff_training(
            snapshot, policy_id=policy_id, start=start, end=end
        )
        # The parts a manager entered for the council's year (the governing body's response, ...).
        entered = await entries(snapshot, policy_id=policy.id, year=year) if policy else {}
    return {"report": report, "extras": extras, "start": start, "end": end, "entered": entered}


def render_annual(figures: dict[str, Any], *, year: int, policy: Policy | None, generated_on: date) -> str:
    return TEMPLATES.get_template("annual.html").render(
        **figures,
        year=year_label(year),
        policy=policy,
        landlord=policy.name if policy else "All councils",
        charts=charts(figures["report"], figures["extras"], figures["start"]),
        generated_on=generated_on,
        pounds=lambda pence: f"£{pence / 100:,.2f}",
    )
