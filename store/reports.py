"""Report figures, computed in SQL over the read model's facts per stage (complaint_stages, migration 130).

The whole months of a period are read from monthly summaries kept with the stage rows (migration 200), the
days before and after them from the stage rows (store/report_sources.py): a year is a few thousand rows
whatever the volume. One aggregation of those gives every per-stage figure, whole and by service area, month
and outcome (GROUPING SETS); one more the complaint-wide figures (escalation, promised actions, the
ombudsman). Python only shapes the rows into the report.

Definitions (as the Regulator of Social Housing's CH01/CH02 and the Complaint Handling Code use them):
- a complaint counts in a period by its stage's date of receipt (a Stage 2 by the date it was asked for);
  `received` counts every complaint logged, declined ones included;
- `responded_on_time`: the response date is on or before the date in force when it was sent (extensions the
  policy allows, and clock stops, included); `responded_within_original_deadline`: on or before the first date
  planned;
- working days to respond: from day 0 of the stage to the response, less the working days the clock was
  stopped;
- `escalation_rate_percent`: Stage 1 complaints of the period that went to Stage 2, per 100 Stage 1 responses;
- `per_1000_homes`: complaints received per 1,000 homes of the policy (null without a homes figure, or across
  several councils).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg

from domain.ombudsman_decisions import Finding
from domain.tsm import Tenure
from store import report_sources as sources
from store import report_tsm
from store.complaints import Executor

# Memory for one report's aggregation: enough for PostgreSQL to hash the grouping sets (a handful of groups)
# instead of sorting every row of the period once per set, which the default 4 MB made it do at 200,000 rows.
REPORT_WORK_MEM = "64MB"


@asynccontextmanager
async def reading(db: Executor) -> AsyncIterator[Executor]:
    """One read-only snapshot for all of a report's queries (its figures agree with each other), with the
    report's working memory. A connection the caller already holds is used as it is."""
    if not isinstance(db, asyncpg.Pool):
        yield db
        return
    async with db.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        await connection.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        yield connection


def _stage_figures(rows: str = sources.STAGE_ROWS) -> str:
    return f"""
    SELECT stage, service_area, month, outcome,
        GROUPING(service_area) = 0 AS by_area, GROUPING(month) = 0 AS by_month,
        GROUPING(outcome) = 0 AS by_outcome,
        sum(received)::int8 AS received,
        sum(declined)::int8 AS declined,
        sum(withdrawn)::int8 AS withdrawn,
        sum(acknowledged)::int8 AS acknowledged,
        sum(acknowledged_on_time)::int8 AS acknowledged_on_time,
        sum(responded)::int8 AS responded,
        sum(responded_on_time)::int8 AS responded_on_time,
        sum(responded_within_original_deadline)::int8 AS responded_within_original_deadline,
        round(100.0 * sum(responded_on_time)::int8 / nullif(sum(responded)::int8, 0), 1)::float8
            AS responded_on_time_percent,
        sum(extended)::int8 AS extended,
        coalesce(sum(remedies), 0)::int8 AS remedies,
        coalesce(sum(compensation_pence), 0)::int8 AS compensation_pence,
        round(1000.0 * sum(received)::int8 / $9::int, 2)::float8 AS per_1000_homes
    FROM {sources.stages(rows)} AS period
    GROUP BY GROUPING SETS ((stage), (stage, service_area), (stage, month), (stage, outcome))
    ORDER BY stage, service_area NULLS FIRST, month NULLS FIRST, outcome NULLS FIRST
    """


_STAGE_FIGURES = _stage_figures()


# Working days to respond, median and 90th percentile per stage (as percentile_cont computes them: linear
# between the two nearest ranks), from a histogram of the days (kept per month in the summaries): a few dozen
# rows, where an ordered-set aggregate would sort every response of the period.
def _percentiles(rows: str = sources.STAGE_ROWS) -> str:
    return f"""
    WITH histogram AS (
        SELECT stage, days, sum(responses)::int8 AS count FROM {sources.days(rows)} AS responses GROUP BY 1, 2
    ), ranks AS (
        SELECT stage, days,
            sum(count) OVER (PARTITION BY stage ORDER BY days) - count AS first_rank,
            sum(count) OVER (PARTITION BY stage ORDER BY days) - 1 AS last_rank,
            sum(count) OVER (PARTITION BY stage) AS n
        FROM histogram
    ), wanted AS (
        SELECT DISTINCT stage, fraction, fraction * (n - 1) AS rank
        FROM ranks, (VALUES (0.5), (0.9)) AS fractions (fraction)
    )
    SELECT wanted.stage, wanted.fraction,
        round(low.days + (high.days - low.days) * (wanted.rank - floor(wanted.rank)), 1)::float8 AS days
    FROM wanted
    JOIN ranks low ON low.stage = wanted.stage AND floor(wanted.rank) BETWEEN low.first_rank AND low.last_rank
    JOIN ranks high
        ON high.stage = wanted.stage AND ceil(wanted.rank) BETWEEN high.first_rank AND high.last_rank
    """


_PERCENTILES = _percentiles()


# Complaint-wide figures of the complaints whose Stage 1 was received in the period.
def _case_figures(rows: str = sources.STAGE_ROWS) -> str:
    return f"""
    SELECT decision, GROUPING(decision) = 0 AS by_decision,
        coalesce(sum(responded), 0)::int8 AS responded,
        coalesce(sum(escalated), 0)::int8 AS escalated,
        round(100.0 * sum(escalated)::int8 / nullif(sum(responded)::int8, 0), 1)::float8
            AS escalation_rate_percent,
        coalesce(sum(actions_promised), 0)::int8 AS actions_promised,
        coalesce(sum(actions_done), 0)::int8 AS actions_done,
        coalesce(sum(actions_overdue), 0)::int8 AS actions_overdue,
        coalesce(sum(referrals), 0)::int8 AS referrals,
        coalesce(sum(decisions), 0)::int8 AS decisions
    FROM {sources.cases(rows)} AS complaints
    GROUP BY GROUPING SETS ((), (decision))
    """


_CASE_FIGURES = _case_figures()


# Issue 28: how the early-resolution step ended for the complaints received in the period, so frontline
# resolutions count apart from investigations (the SPSO's two figures); whole months from their summary
# (migration 300), the edge days from the stage rows.
def _early_resolution(rows: str = sources.STAGE_ROWS) -> str:
    return f"""
    SELECT early_resolution, sum(complaints)::int8 AS complaints
    FROM {sources.early_resolutions(rows)} AS ended
    GROUP BY 1
    """


# Every figure of the performance report in one statement: the edge days' stage rows (a period starting or
# ending inside a month) are read once into a materialized common table expression that every part scans,
# where a statement per part read them once each (issue 26). Each part comes back as a JSON array of its rows.
_PERFORMANCE = f"""
WITH {sources.EDGE_CTE}
SELECT
    (SELECT json_agg(part) FROM ({_stage_figures(sources.EDGE_ROWS)}) AS part) AS stage_rows,
    (SELECT json_agg(part) FROM ({_case_figures(sources.EDGE_ROWS)}) AS part) AS case_rows,
    (SELECT json_agg(part) FROM ({_percentiles(sources.EDGE_ROWS)}) AS part) AS percentile_rows,
    (SELECT json_agg(part) FROM ({report_tsm.code_figures(sources.EDGE_ROWS)}) AS part) AS code_rows,
    (SELECT json_agg(part) FROM ({_early_resolution(sources.EDGE_ROWS)}) AS part) AS early_rows
"""

# JSON writes a float with no fraction (50.0) as an integer: these figures are made floats again.
_FLOAT_FIGURES = ("responded_on_time_percent", "per_1000_homes", "escalation_rate_percent", "days")


def _part(value: str | None) -> list[dict[str, Any]]:
    """The rows of one part of `_PERFORMANCE`, as the part's own query would have returned them."""
    rows: list[dict[str, Any]] = json.loads(value) if value else []
    for row in rows:
        for name in _FLOAT_FIGURES:
            if row.get(name) is not None:
                row[name] = float(row[name])
    return rows


# Whether some complaint is closed to this staff member on reads (a declared conflict, or naming them).
_CLOSED_TO = f"""
SELECT EXISTS (SELECT 1 FROM staff_conflicts WHERE staff_id = $1)
    OR EXISTS (SELECT 1 FROM complaints WHERE {sources.NAMES_ANYONE} AND staff_complained_about @> ARRAY[$1])
"""

# How a period is split between the summaries and the stage rows ($1, $2 and $5 to $8): a test counts a
# period from the rows alone with this swapped for `sources.rows_only`.
period_parts = sources.period_parts


def period_args(start: date, end: date, policy_id: str | None, service_area: str | None) -> tuple[Any, ...]:
    """The report sources' $1 to $8."""
    first_month, last_month, *days = period_parts(start, end)
    return (first_month, last_month, policy_id, service_area, *days)


@asynccontextmanager
async def reading_for(db: Executor, reader: str | None) -> AsyncIterator[tuple[Executor, bool]]:
    """One snapshot for a report read by `reader` (a staff member's id; None: a report for no one in
    particular, as the CLI's files), and whether complaints closed to them on reads (a declared conflict of
    interest, or naming them) are left out. Issue 29: every report that could show an individual's complaint
    (performance, annual, self-assessment, indicators) reads through this, as the overdue digest leaves them
    out: the transaction names the reader (report_sources.READER), and every source leaves their complaints
    out: the edge days' rows filtered, their contributions to the whole months' summaries subtracted.
    The setting lasts as long as the transaction: nested reports with the same reader share it."""
    async with reading(db) as snapshot:
        leaving_out = reader is not None and bool(await snapshot.fetchval(_CLOSED_TO, reader))
        if not leaving_out:
            yield snapshot, False
            return
        assert not isinstance(snapshot, asyncpg.Pool)  # `reading` gives a connection
        if snapshot.is_in_transaction():
            await snapshot.execute("SELECT set_config('complaints.report_reader', $1, true)", reader)
            yield snapshot, True
            return
        # A connection outside a transaction: a setting local to one would be gone by the next statement.
        async with snapshot.transaction(isolation="repeatable_read", readonly=True):
            await snapshot.execute("SELECT set_config('complaints.report_reader', $1, true)", reader)
            yield snapshot, True


STAGE_MEASURES = [
    "received",
    "declined",
    "withdrawn",
    "acknowledged",
    "acknowledged_on_time",
    "responded",
    "responded_on_time",
    "responded_within_original_deadline",
    "responded_on_time_percent",
    "extended",
    "median_working_days_to_respond",
    "p90_working_days_to_respond",
]


# Breakdowns (by service area, by month) have every figure but these.
TOTAL_ONLY = ("median_working_days_to_respond", "p90_working_days_to_respond")


def _stage(row: dict[str, Any] | None) -> dict[str, Any]:
    figures: dict[str, Any] = {
        name: (row[name] if row else 0) for name in STAGE_MEASURES if name not in TOTAL_ONLY
    }
    if row is None:
        figures["responded_on_time_percent"] = None
    return figures


def _by_stage(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {row["stage"]: row for row in rows}
    return {f"stage{number}": _stage(found.get(number)) for number in (1, 2)}


def _ombudsman(referrals: int, case_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Referrals, and the decisions by body and determination (domain/ombudsman_decisions.py), with the
    ombudsman's findings of complaint-handling failure (non-compliance with the Code)."""
    determinations: dict[str, dict[str, int]] = {}
    failures = 0
    for row in case_rows:
        if row["by_decision"] and row["decision"] is not None and row["decisions"]:
            finding = Finding.of_code(row["decision"])
            counts = determinations.setdefault(finding.body, {})
            counts[finding.determination] = counts.get(finding.determination, 0) + row["decisions"]
            failures += row["decisions"] if finding.complaint_handling_failure else 0
    return {
        "referrals": referrals,
        "decisions": sum(sum(counts.values()) for counts in determinations.values()),
        "determinations": {
            body: dict(sorted(counts.items())) for body, counts in sorted(determinations.items())
        },
        "complaint_handling_failures": failures,
    }


async def performance(
    db: Executor,
    *,
    start: date,
    end: date,
    policy_id: str | None = None,
    service_area: str | None = None,
    homes: int | None = None,
    homes_by_tenure: Mapping[Tenure, int] | None = None,
    reader: str | None = None,
) -> dict[str, Any]:
    """The performance report for complaints received from `start` to `end` (local dates, inclusive).

    For a `reader` (a staff member's id) some complaint is closed to (a declared conflict of interest, or
    naming them), those complaints are left out (report_sources.READER, CLOSED_ROWS)."""
    async with reading_for(db, reader) as (snapshot, leaving_out):
        args = period_args(start, end, policy_id, service_area)
        parts = await snapshot.fetchrow(_PERFORMANCE, *args, homes)
    assert parts is not None  # a SELECT without FROM returns one row
    stage_rows, case_rows = _part(parts["stage_rows"]), _part(parts["case_rows"])
    percentile_rows, code_rows = _part(parts["percentile_rows"]), _part(parts["code_rows"])
    early_rows = _part(parts["early_rows"])
    statutory = report_tsm.figures(code_rows, homes=homes, homes_by_tenure=homes_by_tenure or {})
    percentiles = {(row["stage"], float(row["fraction"])): row["days"] for row in percentile_rows}
    totals = [row for row in stage_rows if not (row["by_area"] or row["by_month"] or row["by_outcome"])]
    report: dict[str, Any] = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "policy_id": policy_id,
        "service_area": service_area,
        "homes": homes,
        # Issue 29 (11): complaints closed to the reader (conflicts of interest, naming them) are left out.
        "closed_to_reader_left_out": leaving_out,
        **_by_stage(totals),
    }
    for number in (1, 2):
        report[f"stage{number}"]["median_working_days_to_respond"] = percentiles.get((number, 0.5))
        report[f"stage{number}"]["p90_working_days_to_respond"] = percentiles.get((number, 0.9))
        report[f"stage{number}"]["outcomes"] = {
            row["outcome"]: row["received"]
            for row in stage_rows
            if row["by_outcome"] and row["stage"] == number and row["outcome"] is not None
        }
    whole = next(row for row in case_rows if not row["by_decision"])
    per_stage = {row["stage"]: row for row in totals}
    report["escalation_rate_percent"] = whole["escalation_rate_percent"]
    report["per_1000_homes"] = {
        f"stage{number}": (per_stage[number]["per_1000_homes"] if number in per_stage else 0.0)
        if homes
        else None
        for number in (1, 2)
    }
    report["remedies"] = {
        "count": sum(row["remedies"] for row in totals),
        "compensation_pence": sum(row["compensation_pence"] for row in totals),
    }
    report["actions"] = {
        "promised": whole["actions_promised"],
        "done": whole["actions_done"],
        "overdue": whole["actions_overdue"],
    }
    report["ombudsman"] = _ombudsman(whole["referrals"], case_rows)
    ended = {row["early_resolution"]: row["complaints"] for row in early_rows}
    report["early_resolution"] = {
        "resolved": ended.get("resolved", 0),
        "investigated": ended.get("requested", 0) + ended.get("not_suitable", 0),
        "investigation_requested": ended.get("requested", 0),
        "not_suitable": ended.get("not_suitable", 0),
    }
    areas = sorted({row["service_area"] for row in stage_rows if row["by_area"]})
    report["by_service_area"] = [
        {
            "service_area": area,
            **_by_stage([r for r in stage_rows if r["by_area"] and r["service_area"] == area]),
        }
        for area in areas
    ]
    months = sorted({row["month"] for row in stage_rows if row["by_month"]})
    report["by_month"] = [
        {"month": month, **_by_stage([r for r in stage_rows if r["by_month"] and r["month"] == month])}
        for month in months
    ]
    # The Regulator's measures on the Code's clock, next to the council's own figures above.
    report["tsm"] = statutory
    return report


def rows_for_csv(report: dict[str, Any]) -> list[tuple[str, str, str, str, Any]]:
    """Every figure of a report as one row: (section, key, stage, measure, value)."""
    rows: list[tuple[str, str, str, str, Any]] = []

    def stages(section: str, key: str, entry: dict[str, Any]) -> None:
        for stage in ("stage1", "stage2"):
            for measure, value in entry[stage].items():
                if measure == "outcomes":
                    for outcome, count in value.items():
                        rows.append((section, key, stage, f"outcome:{outcome}", count))
                else:
                    rows.append((section, key, stage, measure, value))

    stages("total", "", report)
    rows.append(("total", "", "", "escalation_rate_percent", report["escalation_rate_percent"]))
    for stage, value in report["per_1000_homes"].items():
        rows.append(("total", "", stage, "per_1000_homes", value))
    for group in ("remedies", "actions"):
        for measure, value in report[group].items():
            rows.append(("total", "", "", f"{group}_{measure}", value))
    for measure, value in report["early_resolution"].items():
        rows.append(("total", "", "stage1", f"early_resolution_{measure}", value))
    ombudsman = report["ombudsman"]
    for measure in ("referrals", "decisions", "complaint_handling_failures"):
        rows.append(("total", "", "", f"ombudsman_{measure}", ombudsman[measure]))
    for body, counts in ombudsman["determinations"].items():
        for determination, count in counts.items():
            rows.append(("ombudsman_determination", f"{body}:{determination}", "", "decisions", count))
    for entry in report["by_service_area"]:
        stages("service_area", entry["service_area"], entry)
    for entry in report["by_month"]:
        stages("month", entry["month"], entry)
    rows += report_tsm.rows_for_csv(report["tsm"])
    return rows


_REMEDIES_BY_KIND = f"""
SELECT kind, sum(remedies)::int8 AS count, coalesce(sum(compensation_pence), 0)::int8 AS compensation_pence
FROM {sources.REMEDIES} AS remedies
GROUP BY 1 ORDER BY 2 DESC, 1
"""

_UPHELD_BY_AREA = f"""
SELECT service_area,
    coalesce(sum(received) FILTER (WHERE outcome IN ('upheld', 'partially_upheld')), 0)::int8 AS upheld,
    coalesce(sum(received) FILTER (WHERE outcome IS NOT NULL), 0)::int8 AS decided
FROM {sources.STAGES} AS period
GROUP BY service_area HAVING sum(received) FILTER (WHERE outcome IN ('upheld', 'partially_upheld')) > 0
ORDER BY 2 DESC, 1
"""

# The year's learning themes: the root causes recorded with the responses (one of each policy's codes).
_ROOT_CAUSES = f"""
SELECT root_cause, sum(responses)::int8 AS responses, sum(upheld)::int8 AS upheld
FROM {sources.THEMES} AS themes
GROUP BY root_cause ORDER BY 2 DESC, 1
"""


async def remedies_and_learning(
    db: Executor, *, start: date, end: date, policy_id: str | None = None, reader: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """For the annual report: remedies by kind, where complaints were upheld, and the root causes the
    responses recorded (the year's learning themes); without the complaints closed to `reader`."""
    async with reading_for(db, reader) as (snapshot, _):
        args = period_args(start, end, policy_id, None)
        return {
            "remedies_by_kind": [dict(row) for row in await snapshot.fetch(_REMEDIES_BY_KIND, *args)],
            "upheld_by_service_area": [dict(row) for row in await snapshot.fetch(_UPHELD_BY_AREA, *args)],
            "root_causes": [dict(row) for row in await snapshot.fetch(_ROOT_CAUSES, *args)],
        }


# Extensions against the policy's limits per stage ($9 for Stage 1, $10 beyond), from the histogram of working
# days of extension; the rest from the per-stage counters.
_EXTENSIONS = f"""
WITH stages AS (
    SELECT stage, sum(extended)::int8 AS extended,
        coalesce(sum(responded) FILTER (WHERE stage >= 2), 0)::int8 AS answered,
        sum(independent)::int8 AS answered_by_someone_else
    FROM {sources.STAGES} AS period
    GROUP BY stage
), extensions AS (
    SELECT stage,
        coalesce(sum(complaints) FILTER (
            WHERE extension_working_days > CASE stage WHEN 1 THEN $9::int ELSE $10::int END), 0)::int8
            AS beyond_limit,
        coalesce(sum(complaints) FILTER (
            WHERE extension_working_days > CASE stage WHEN 1 THEN $9::int ELSE $10::int END
            AND extended_with_agreement), 0)::int8 AS beyond_limit_agreed
    FROM {sources.EXTENSIONS} AS period
    GROUP BY stage
)
SELECT stages.stage, extended, coalesce(beyond_limit, 0)::int8 AS beyond_limit,
    coalesce(beyond_limit_agreed, 0)::int8 AS beyond_limit_agreed, answered, answered_by_someone_else
FROM stages LEFT JOIN extensions USING (stage)
"""

_EXCLUSIONS = f"""
SELECT exclusion, sum(declined)::int8 AS declined FROM {sources.STAGES} AS period
GROUP BY exclusion HAVING sum(declined) > 0 ORDER BY 2 DESC, 1
"""


async def declined_by_exclusion(
    db: Executor, *, start: date, end: date, policy_id: str | None = None, reader: str | None = None
) -> dict[str, int]:
    """Complaints refused (declined) in the period, by the policy's exclusion (without those closed to
    `reader`)."""
    async with reading_for(db, reader) as (snapshot, _):
        rows = await snapshot.fetch(_EXCLUSIONS, *period_args(start, end, policy_id, None))
    return {row["exclusion"]: row["declined"] for row in rows}


async def code_evidence(
    db: Executor,
    *,
    start: date,
    end: date,
    policy_id: str,
    extension_limits: tuple[int, int],
    reader: str | None = None,
) -> dict[str, Any]:
    """For the self-assessment: extensions against the policy's limits (per stage), Stage 2 answered by
    someone other than Stage 1's responder, and complaints declined by exclusion (without the complaints
    closed to `reader`)."""
    async with reading_for(db, reader) as (snapshot, _):
        args = period_args(start, end, policy_id, None)
        stages = {
            row["stage"]: dict(row) for row in await snapshot.fetch(_EXTENSIONS, *args, *extension_limits)
        }
        exclusions = await snapshot.fetch(_EXCLUSIONS, *args)
    empty = {
        "extended": 0,
        "beyond_limit": 0,
        "beyond_limit_agreed": 0,
        "answered": 0,
        "answered_by_someone_else": 0,
    }
    return {
        "stage1": stages.get(1, empty),
        "stage2": stages.get(2, empty),
        "declined_by_exclusion": {row["exclusion"]: row["declined"] for row in exclusions},
    }
