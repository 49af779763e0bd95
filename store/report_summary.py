"""The report summaries per month (migration 200) and per day (migration 422): triggers on complaint_stages
keep them in step with every write; this recomputes them from the stage rows, for the read-model rebuild and
after a bulk load."""

from __future__ import annotations

from store.complaints import Executor

SUMMARY_TABLES = (
    "report_stage_months",
    "report_days_months",
    "report_extension_months",
    "report_remedy_months",
    "report_case_months",
    "report_theme_months",
    "report_code_months",  # migration 250: the Code's clock and tenure (CH01, CH02)
    "report_early_resolution_months",  # migration 300: how the early-resolution step ended
    # Migration 422: the same counters per day of receipt, for the days of a period outside its whole months.
    "report_stage_days",
    "report_days_days",
    "report_extension_days",
    "report_remedy_days",
    "report_case_days",
    "report_theme_days",
    "report_code_days",
    "report_early_resolution_days",
)


async def rebuild_report_summary(db: Executor) -> None:
    """Recompute every summary from complaint_stages, in one transaction (writes to the stage rows
    wait for it, so the summaries match them exactly)."""
    await db.execute(
        "SELECT report_summary_rebuild(), report_code_rebuild(), report_early_resolution_rebuild(),"
        " report_day_rebuild()"
    )
