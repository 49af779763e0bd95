"""The report queries at scale: facts per stage derived in SQL from the synthetic complaints, then the
performance figures, the annual report and the self-assessment timed as the API runs them."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from bench.listing import plan_line
from bench.measure import percentile, repeat
from domain.policy import Policy
from reporting.annual import annual_figures, financial_year, render_annual
from reporting.self_assessment import self_assessment
from store import report_indicators, report_tsm, reports
from store.report_sources import period_parts, rows_only
from store.report_summary import SUMMARY_TABLES

# One stage row per synthetic complaint, a second for those at Stage 2. The mix is derived from a hash of the
# reference (deterministic): 10% extended by about a week, declined ones with an exclusion, a remedy for each
# upheld or partly upheld response (with redress for a third of them), a tenure for four in five, dates on the
# Code's clock (a week to acknowledge, two weeks from the acknowledgement to answer), and an ombudsman
# decision for 2% (a third of them with a complaint-handling failure); Westminster's Stage 1 rows went through
# an early-resolution step (migration 240), ended one of its three ways. Written in order of receipt, as a
# live service writes them over time: in reference order, with random receipt dates, a month's rows were
# spread over the whole table (issue 26: the 30 edge days of a mid-month period read 56,742 blocks at
# 1,000,000).
_FACTS = """
INSERT INTO complaint_stages (
    reference, stage, policy_id, service_area, received_on, day_zero, acknowledge_by, acknowledged_on,
    original_respond_by, respond_by, respond_by_when_answered, responded_on, working_days_to_respond,
    closed_on, ended, outcome, exclusion, extensions, extension_working_days, remedies, remedy_count,
    compensation_pence, independent_reviewer, last_seq, tenure, code_acknowledge_by, code_respond_by,
    ombudsman_referred_on, ombudsman_decided_on, ombudsman_decision, early_resolution
)
SELECT reference, stage, policy_id, service_area, received_on, received_on, acknowledge_by, acknowledged_on,
    respond_by, respond_by + 7 * extended, respond_by + 7 * extended, responded_on,
    CASE WHEN responded_on IS NOT NULL THEN (responded_on - received_on) * 5 / 7 END,
    closed_on, ended, outcome, CASE WHEN ended = 'declined' THEN 'service-request' END,
    extended, 5 * extended,
    CASE WHEN outcome IN ('upheld', 'partially_upheld') THEN
        CASE WHEN h % 3 = 0 THEN '[{"kind": "apology"}, {"kind": "financial_redress", "amount_pence": 5000}]'
             ELSE '[{"kind": "apology"}]' END ELSE '[]' END::jsonb,
    CASE WHEN outcome IN ('upheld', 'partially_upheld') THEN CASE WHEN h % 3 = 0 THEN 2 ELSE 1 END ELSE 0 END,
    CASE WHEN outcome IN ('upheld', 'partially_upheld') AND h % 3 = 0 THEN 5000 ELSE 0 END,
    CASE WHEN stage = 2 AND responded_on IS NOT NULL THEN true END, last_seq,
    (ARRAY['low_cost_rental', 'low_cost_rental', 'low_cost_home_ownership', 'leaseholder', NULL])[h % 5 + 1],
    received_on + 7, least(acknowledged_on, received_on + 7) + 14 + 7 * extended,
    CASE WHEN h % 50 = 7 THEN received_on + 90 END, CASE WHEN h % 50 = 7 THEN received_on + 200 END,
    CASE WHEN h % 50 = 7 THEN
        (ARRAY['lgsco:fault_causing_injustice+complaint_handling_failure', 'lgsco:no_fault',
               'housing-ombudsman:maladministration'])[h % 3 + 1] END,
    CASE WHEN stage = 1 AND policy_id = 'westminster' THEN
        (ARRAY['resolved', 'requested', 'not_suitable'])[h % 3 + 1] END
FROM (
    SELECT c.reference, s.stage, c.policy_id, c.service_area, abs(hashtext(c.reference)) AS h,
        (c.received_at AT TIME ZONE 'Europe/London')::date + (s.stage - 1) * 30 AS received_on,
        c.acknowledge_by + (s.stage - 1) * 30 AS acknowledge_by,
        (c.acknowledged_at AT TIME ZONE 'Europe/London')::date + (s.stage - 1) * 30 AS acknowledged_on,
        c.respond_by + (s.stage - 1) * 30 AS respond_by,
        (c.responded_at AT TIME ZONE 'Europe/London')::date + (s.stage - 1) * 30 AS responded_on,
        (c.closed_at AT TIME ZONE 'Europe/London')::date AS closed_on,
        CASE WHEN c.status IN ('closed', 'declined', 'withdrawn', 'escalation_refused') AND s.stage = c.stage
             THEN c.status END AS ended,
        c.outcome, CASE WHEN abs(hashtext(c.reference)) % 10 = 0 THEN 1 ELSE 0 END AS extended, c.last_seq
    FROM complaints c CROSS JOIN generate_series(1, 2) AS s (stage)
    WHERE s.stage <= c.stage AND c.reference LIKE 'CMP-%-S%'
) AS derived
ORDER BY received_on, reference, stage
ON CONFLICT DO NOTHING
"""


async def load_facts(pool: asyncpg.Pool) -> float:
    """Derive complaint_stages rows for the synthetic complaints (the triggers of migration 200 fill the
    monthly summaries in the same statement) and ANALYZE; return the seconds it took."""
    started = datetime.now(UTC)
    async with pool.acquire() as connection:
        await connection.execute(_FACTS)
        await connection.execute("ANALYZE complaint_stages")
        for table in SUMMARY_TABLES:
            await connection.execute(f"ANALYZE {table}")
    return (datetime.now(UTC) - started).total_seconds()


CONFLICTED_READER = "bench.conflicted-manager"
# The early-resolution counts as the performance report read them before migration 300: from every Stage 1
# row of the period (the "before" of the timings below).
_EARLY_RESOLUTION_FROM_ROWS = """
SELECT early_resolution, count(*)::int8 AS complaints
FROM complaint_stages
WHERE stage = 1 AND received_on BETWEEN $1 AND $2 AND early_resolution IS NOT NULL
    AND ($3::text IS NULL OR policy_id = $3) AND ($4::text IS NULL OR service_area = $4)
GROUP BY 1
"""


async def measure_reports(
    pool: asyncpg.Pool, policies: dict[str, Policy], repeats: int, *, before: bool = True
) -> dict[str, Any]:
    """p50/p95 of each report as the API computes it, for last full financial year; `before`: also the
    earlier forms (a statement per figure set, every figure from the stage rows), seconds each at 1M."""
    today = datetime.now(UTC).date()
    year = (today.year if today.month >= 4 else today.year - 1) - 1
    start, end = financial_year(year)
    bexley = policies["bexley"]

    async def performance_all() -> object:
        return await reports.performance(pool, start=start, end=end)

    async def performance_mid_month() -> object:
        # A year that starts and ends inside a month: eleven whole months, and 30 days from the daily
        # summaries (migration 422; from the stage rows before it).
        return await reports.performance(pool, start=start.replace(day=16), end=end.replace(month=4, day=15))

    async def performance_mid_month_per_query() -> object:
        # The same figures as before issue 26's change: one statement per set of figures, each reading the 30
        # edge days' stage rows again (four reads), where `performance` reads them once for all sets.
        mid_start, mid_end = start.replace(day=16), end.replace(month=4, day=15)
        args = reports.period_args(mid_start, mid_end, None, None)
        async with reports.reading(pool) as snapshot:
            await snapshot.fetch(reports._STAGE_FIGURES, *args, None)
            await snapshot.fetch(reports._CASE_FIGURES, *args)
            await snapshot.fetch(reports._PERCENTILES, *args)
            await report_tsm.tsm(snapshot, args, homes=None, homes_by_tenure={})
            return await snapshot.fetch(_EARLY_RESOLUTION_FROM_ROWS, mid_start, mid_end, None, None)

    async def performance_council() -> object:
        return await reports.performance(pool, start=start, end=end, policy_id="westminster")

    # Issue 29 (11): a reader with a declared conflict of interest gets the figures less that complaint (the
    # summaries less its own contributions, store/report_sources.CLOSED_ROWS).
    for council in ("westminster", "bexley"):  # one complaint each in the year
        await pool.execute(
            "INSERT INTO staff_conflicts (reference, staff_id) SELECT reference, $3 FROM complaint_stages"
            " WHERE received_on BETWEEN $1 AND $2 AND policy_id = $4 LIMIT 1 ON CONFLICT DO NOTHING",
            start,
            end,
            CONFLICTED_READER,
            council,
        )

    async def performance_council_conflicted() -> object:
        return await reports.performance(
            pool, start=start, end=end, policy_id="westminster", reader=CONFLICTED_READER
        )

    async def annual() -> str:
        figures = await annual_figures(pool, year=year, policy=bexley)
        return render_annual(figures, year=year, policy=bexley, generated_on=today)

    async def assessment() -> object:
        return await self_assessment(pool, policy=bexley, year=year)

    # The SPSO's set over one council's rows (Westminster's, as if it were Scottish: the same queries).
    scottish = policies["scotland-model"].model_copy(update={"id": "westminster"})

    async def indicators() -> object:
        return await report_indicators.indicators(
            pool, policy=scottish, start=start, end=end, population=250_000
        )

    # The PSOW's set likewise (Westminster's rows as if Welsh), and the reports of a reader with a declared
    # conflict (one complaint of Westminster's and one of Bexley's in the year): the annual report, the
    # self-assessment and both indicator sets take the same path as the performance report.
    welsh = policies["wales-model"].model_copy(update={"id": "westminster"})

    async def indicators_welsh() -> object:
        return await report_indicators.indicators(
            pool, policy=welsh, start=start, end=end, population=250_000
        )

    async def annual_conflicted() -> str:
        figures = await annual_figures(pool, year=year, policy=bexley, reader=CONFLICTED_READER)
        return render_annual(figures, year=year, policy=bexley, generated_on=today)

    async def assessment_conflicted() -> object:
        return await self_assessment(pool, policy=bexley, year=year, reader=CONFLICTED_READER)

    async def indicators_conflicted() -> object:
        return await report_indicators.indicators(
            pool, policy=scottish, start=start, end=end, population=250_000, reader=CONFLICTED_READER
        )

    async def indicators_welsh_conflicted() -> object:
        return await report_indicators.indicators(
            pool, policy=welsh, start=start, end=end, population=250_000, reader=CONFLICTED_READER
        )

    async def performance_mid_month_conflicted() -> object:
        return await reports.performance(
            pool, start=start.replace(day=16), end=end.replace(month=4, day=15), reader=CONFLICTED_READER
        )

    operations: tuple[tuple[str, Callable[[], Awaitable[object]]], ...] = (
        ("performance (all councils, one year)", performance_all),
        ("performance (one council, one year)", performance_council),
        ("performance (all councils, 16th to 15th)", performance_mid_month),
        ("performance (one council, one year, reader with a conflict)", performance_council_conflicted),
        (
            "performance (all councils, 16th to 15th), a statement per figure set",
            performance_mid_month_per_query,
        ),
        ("annual report (one council, HTML)", annual),
        ("self-assessment (one council)", assessment),
        ("ombudsman indicators (SPSO set, one council)", indicators),
        ("ombudsman indicators (PSOW set, one council)", indicators_welsh),
        ("annual report (one council, HTML), reader with a conflict", annual_conflicted),
        ("self-assessment (one council), reader with a conflict", assessment_conflicted),
        ("ombudsman indicators (SPSO set), reader with a conflict", indicators_conflicted),
        ("ombudsman indicators (PSOW set), reader with a conflict", indicators_welsh_conflicted),
        (
            "performance (all councils, 16th to 15th), reader with a conflict",
            performance_mid_month_conflicted,
        ),
    )
    if not before:
        operations = tuple(item for item in operations if "a statement per figure set" not in item[0])
    timed: dict[str, Any] = {}
    for name, operation in operations:
        await operation()  # warm up
        latencies = await repeat(repeats, operation)
        timed[name] = {
            "p50_ms": round(percentile(latencies, 0.5), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
        }
    # The mid-month report against its "before" (a statement per figure set, early resolution from every
    # Stage 1 row), run alternately so a change in the machine's load falls on both.
    interleaved: dict[str, list[float]] = {"after": [], "before": []}
    for _ in range(max(repeats, 5) if before else 0):
        interleaved["after"] += await repeat(1, performance_mid_month)
        interleaved["before"] += await repeat(1, performance_mid_month_per_query)
    mid_month = {
        side: round(percentile(values, 0.5), 1) if values else None for side, values in interleaved.items()
    }
    # The same reports counted from the stage rows alone (as every report was before the monthly summaries):
    # the "before" of the same run. Fewer runs: seconds each.
    from_rows: dict[str, Any] = {}
    reports.period_parts = rows_only
    try:
        for name, operation in operations if before else ():
            latencies = await repeat(max(1, min(repeats, 3)), operation)
            from_rows[name] = {"p50_ms": round(percentile(latencies, 0.5), 1)}
    finally:
        reports.period_parts = period_parts
    in_year = await pool.fetchval(
        "SELECT count(*) FROM complaint_stages WHERE received_on BETWEEN $1 AND $2", start, end
    )
    summary_rows = await pool.fetchval(
        "SELECT count(*) FROM report_stage_months WHERE month BETWEEN $1 AND $2", start, end
    )
    plan = await _plan(pool, start, end)
    mid_month_server = await _mid_month_server_ms(pool, start.replace(day=16), end.replace(month=4, day=15))
    return {
        "year": f"{year}/{(year + 1) % 100:02d}",
        "stage_rows_in_year": in_year,
        "summary_rows_in_year": summary_rows,
        "plan": plan,
        "mid_month_server_ms": mid_month_server,
        "mid_month_interleaved_p50_ms": mid_month,
        "reports": timed,
        "reports_from_stage_rows": from_rows,
    }


async def _plan(pool: asyncpg.Pool, start: date, end: date) -> dict[str, Any]:
    """The plan of the per-stage figures query for the whole year (from the monthly summary)."""
    async with reports.reading(pool) as snapshot:
        first_month, last_month, *days = period_parts(start, end)
        explain = await snapshot.fetchval(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {reports._STAGE_FIGURES}",
            first_month,
            last_month,
            None,
            None,
            *days,
            None,
        )
    document = json.loads(explain) if isinstance(explain, str) else explain
    return {"line": plan_line(document[0]["Plan"]), "server_ms": round(document[0]["Execution Time"], 1)}


async def _mid_month_server_ms(pool: asyncpg.Pool, start: date, end: date) -> dict[str, float]:
    """Server time of each statement of the mid-month performance report: the one statement reading the edge
    days once, the statements per figure set it replaced (each reading them again), the early resolution."""
    args = reports.period_args(start, end, None, None)
    statements = {
        "one statement (edge rows once)": (reports._PERFORMANCE, (*args, None)),
        "per-stage figures": (reports._STAGE_FIGURES, (*args, None)),
        "complaint-wide figures": (reports._CASE_FIGURES, args),
        "percentiles": (reports._PERCENTILES, args),
        "Code's clock (tsm)": (report_tsm._CODE_FIGURES, args),
        "early resolution, summary and edge days": (reports._early_resolution(), args),
        "early resolution, every Stage 1 row (before)": (
            _EARLY_RESOLUTION_FROM_ROWS,
            (start, end, None, None),
        ),
    }
    timed: dict[str, float] = {}
    async with reports.reading(pool) as snapshot:
        for name, (statement, values) in statements.items():
            explain = await snapshot.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", *values)
            document = json.loads(explain) if isinstance(explain, str) else explain
            timed[name] = round(document[0]["Execution Time"], 1)
    return timed
