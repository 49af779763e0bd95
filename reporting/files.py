"""The reports as files (the `complaints report` command): the same CSV and HTML the API answers."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from domain.policy import Policy
from reporting.annual import annual_figures, financial_year, render_annual
from reporting.self_assessment import render_self_assessment, self_assessment
from store import reports
from store.complaints import Executor

# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): text starting with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs: text that could start a formula gets a leading apostrophe
    (numbers stay numbers, null is empty)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_of(report: dict[str, Any]) -> str:
    """A report as CSV: one figure per line (section, key, stage, measure, value), empty for null; every
    cell neutralised against formulas (`cell`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "stage", "measure", "value"])
    for row in reports.rows_for_csv(report):
        writer.writerow([cell(value) for value in row[:5]])
    return out.getvalue()


def performance_filename(start: date, end: date) -> str:
    return f"complaints-performance-{start.isoformat()}-{end.isoformat()}.csv"


async def write_reports(
    db: Executor,
    *,
    out: Path,
    year: int,
    policy: Policy | None,
    generated_on: date,
    service_area: str | None = None,
) -> list[Path]:
    """Write the year's performance CSV, annual report and (for one council) self-assessment into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    start, end = financial_year(year)
    suffix = f"{year}-{(year + 1) % 100:02d}" + (f"-{policy.id}" if policy else "")
    report = await reports.performance(
        db,
        start=start,
        end=end,
        policy_id=policy.id if policy else None,
        service_area=service_area,
        homes=policy.homes if policy else None,
        homes_by_tenure=policy.homes_by_tenure if policy else None,
    )
    written = [out / performance_filename(start, end)]
    written[0].write_text(csv_of(report), encoding="utf-8")
    annual = out / f"annual-report-{suffix}.html"
    figures = await annual_figures(db, year=year, policy=policy)
    annual.write_text(render_annual(figures, year=year, policy=policy, generated_on=generated_on), "utf-8")
    written.append(annual)
    if policy is not None:
        assessment = out / f"self-assessment-{suffix}.html"
        assessment.write_text(
            render_self_assessment(await self_assessment(db, policy=policy, year=year)), "utf-8"
        )
        written.append(assessment)
    return written
