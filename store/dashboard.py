"""The managers' dashboard figures, in SQL over the read model: open complaints by stage, overdue, due this
week, per service area, and the share of responses on time per month of the year (from the stage facts).
Counts only: no row of a complaint leaves the database. As every report (issue 29), the complaints closed
to the reader on reads (a declared conflict of interest, or naming them) are left out of their figures
(store/reports.reading_for, report_sources.open_to_reader)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from store.complaints import OPEN_CLAUSE, Executor
from store.report_sources import open_to_reader
from store.reports import reading_for

_OPEN = f"""
SELECT stage, service_area, count(*) AS open,
       count(*) FILTER (WHERE overdue) AS overdue,
       count(*) FILTER (WHERE next_deadline < $2) AS due_this_week
FROM complaints
WHERE {OPEN_CLAUSE} AND ($1::text[] IS NULL OR service_area = ANY($1::text[]))
  AND {open_to_reader("complaints")}
GROUP BY stage, service_area
"""

_ON_TIME = f"""
SELECT extract(month FROM responded_on)::int AS month, count(*) AS responded,
       count(*) FILTER (WHERE responded_on <= respond_by_when_answered) AS on_time
FROM complaint_stages
WHERE responded_on >= $2 AND responded_on < $3
  AND ($1::text[] IS NULL OR service_area = ANY($1::text[]))
  AND {open_to_reader()}
GROUP BY 1
"""


async def dashboard_figures(
    db: Executor, *, areas: list[str] | None, week_ends: datetime, year: int, reader: str | None
) -> dict[str, Any]:
    """`reader`: the staff member's id (None: for no one in particular)."""
    async with reading_for(db, reader) as (snapshot, _):
        rows = await snapshot.fetch(_OPEN, areas, week_ends)
        answered = await snapshot.fetch(_ON_TIME, areas, date(year, 1, 1), date(year + 1, 1, 1))
    by_stage: dict[int, int] = {}
    by_area: dict[str, dict[str, int]] = {}
    totals = {"open": 0, "overdue": 0, "due_this_week": 0}
    for row in rows:
        by_stage[row["stage"]] = by_stage.get(row["stage"], 0) + row["open"]
        area = by_area.setdefault(row["service_area"], {"open": 0, "overdue": 0, "due_this_week": 0})
        for key in totals:
            area[key] += row[key]
            totals[key] += row[key]
    months = {row["month"]: (row["on_time"], row["responded"]) for row in answered}
    return {
        "totals": totals,
        "by_stage": dict(sorted(by_stage.items())),
        "by_area": dict(sorted(by_area.items(), key=lambda item: -item[1]["open"])),
        "on_time": [
            {
                "month": month,
                "on_time": months.get(month, (0, 0))[0],
                "responded": months.get(month, (0, 0))[1],
            }
            for month in range(1, 13)
        ],
    }
