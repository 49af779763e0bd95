"""Where a report's figures come from: the whole months of its period from the monthly summaries (migration
200), the days before the first whole month and after the last from the daily summaries (migration 422, the
same counters per day of receipt). The stage rows themselves are read only for a count from the rows alone
(`rows_only`: the from-scratch computation the report tests compare every figure with).

Each source below yields rows of additive counters, the summaries' and the stage rows' alike (a stage row
counts 1 where the summary counts many), so a report sums them without knowing which is which. The stage
rows' counters are defined as the summaries' triggers define them (migration 200); the report tests check
that a period counted from the rows only gives the same figures.

Parameters of every source: $1 and $2 the first and last month (first days) read from the summaries, $3 the
council and $4 the service area (either may be null), $5 to $8 the two ranges of days outside them (an empty
range has its start after its end), read from the daily summaries, or from the stage rows when $1 is after
$2 (`FROM_ROWS`, the mark `rows_only` gives). Queries add their own from $9.

Each source is also a function of where the edge days' rows come from when they are read (a count from the
rows alone): by default the stage rows themselves (an index range scan per query), or `EDGE_ROWS`, the
materialized common table expression `EDGE_CTE` a report puts in front of one statement that computes all its
figures, so they are read once, not once per query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta


def _council_and_area(prefix: str = "") -> str:
    return f"($3::text IS NULL OR {prefix}policy_id = $3) AND ($4::text IS NULL OR {prefix}service_area = $4)"


# Issue 29 (11): the complaints closed to the reader on reads (a declared conflict of interest, or naming
# them) are left out of the figures they get, as the overdue digest leaves them out. The report's transaction
# names the reader (`complaints.report_reader`, set by store/reports.py); unset, nothing is left out. The
# edge days' rows are filtered (`open_to_reader`); the whole months' summaries have those complaints'
# contributions subtracted (`CLOSED_ROWS`, issue 26: counting such a reader's year from the stage rows took
# 10 s at 1,000,000 complaints).
READER = "coalesce(current_setting('complaints.report_reader', true), '')"
# Matches the predicate of migration 420's partial index word for word, so the planner uses it.
NAMES_ANYONE = "cardinality(staff_complained_about) > 0"


def open_to_reader(table: str = "complaint_stages") -> str:
    """The stage rows of `table` (a name or alias) the report's reader may read."""
    return (
        f"({READER} = '' OR (NOT EXISTS (SELECT 1 FROM staff_conflicts AS conflict"
        f" WHERE conflict.reference = {table}.reference AND conflict.staff_id = {READER})"
        f" AND NOT EXISTS (SELECT 1 FROM complaints AS named WHERE named.reference = {table}.reference"
        f" AND {READER} = ANY(named.staff_complained_about))))"
    )


def _rows(prefix: str = "") -> str:
    """Stage rows received in the two ranges of days (an index range scan each), open to the reader."""
    return (
        f"({prefix}received_on BETWEEN $5 AND $6 OR {prefix}received_on BETWEEN $7 AND $8)"
        f" AND {_council_and_area(prefix)} AND {open_to_reader(prefix.rstrip('.') or 'complaint_stages')}"
    )


MONTHS = f"month BETWEEN $1 AND $2 AND {_council_and_area()}"
# A count from the stage rows alone (`rows_only`): the edge days come from the rows, not the daily summaries.
# A one-time condition on the parameters, so the side not taken costs no read.
FROM_ROWS = "$1::date > $2::date"
# The edge days in the daily summaries (migration 422: the same columns, `month` holding the day).
DAYS_OUTSIDE = (
    f"NOT ({FROM_ROWS}) AND (month BETWEEN $5 AND $6 OR month BETWEEN $7 AND $8) AND {_council_and_area()}"
)
ROWS = f"{_rows()} AND {FROM_ROWS}"

# The edge days' stage rows, read in place (a subquery the planner pulls up into each query)...
STAGE_ROWS = f"(SELECT * FROM complaint_stages WHERE {ROWS})"
# ... or once per statement, as a materialized common table expression every source of it scans.
EDGE_ROWS = "edge_rows"
EDGE_CTE = f"{EDGE_ROWS} AS MATERIALIZED {STAGE_ROWS}"

# The complaints closed to the report's reader: those they declared a conflict on and those naming them
# (migration 420's index finds the few complaints that name anyone). Nothing when the report has no reader.
CLOSED = (
    f"(SELECT reference FROM staff_conflicts WHERE staff_id = {READER}"
    f" UNION SELECT reference FROM complaints WHERE {NAMES_ANYONE}"
    f" AND staff_complained_about @> ARRAY[{READER}])"
)
# Their stage rows in the whole months the summaries count ($1 to the end of $2's month): a few rows, read
# by reference, whose contributions each source subtracts from the summaries (`_netted`), so a reader with a
# declared conflict gets the whole months from the summaries too rather than every stage row of the period.
CLOSED_ROWS = (
    f"(SELECT * FROM complaint_stages WHERE {READER} <> '' AND reference IN {CLOSED}"
    f" AND (received_on >= $1 AND received_on < $2 + interval '1 month'"
    f" OR NOT ({FROM_ROWS}) AND (received_on BETWEEN $5 AND $6 OR received_on BETWEEN $7 AND $8))"
    f" AND {_council_and_area()})"
)

# Nothing: a range no date falls in. As the months' range it also marks a count from the rows alone
# (`FROM_ROWS`); a period with no whole month gives `_NO_MONTH` instead, a range of months no summary row
# falls in (a month's first day is never 31 December), so its days come from the daily summaries.
_NONE = (date.max, date.min)
_NO_MONTH = (date.max, date.max)


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def period_parts(start: date, end: date) -> tuple[date, date, date, date, date, date]:
    """The report parameters $1, $2 and $5 to $8 for the period from `start` to `end` (inclusive)."""
    first = start if start.day == 1 else _month_after(start)  # first day of the first whole month
    after = _month_after(end) if _month_after(end) - timedelta(days=1) == end else end.replace(day=1)
    if start > end or first >= after:  # no whole month: every day from the daily summaries
        return (*_NO_MONTH, start, end, *_NONE)
    last = date(after.year - (after.month == 1), (after.month - 2) % 12 + 1, 1)  # the last whole month
    return (first, last, start, first - timedelta(days=1), after, end)


def rows_only(start: date, end: date) -> tuple[date, date, date, date, date, date]:
    """The same period counted from the stage rows alone (no month from the summaries)."""
    return (*_NONE, start, end, *_NONE)


def _count(condition: str) -> str:
    return f"count(*) FILTER (WHERE {condition})"


# The stage rows' part of each source is grouped like the summaries before it joins them, so a report's own
# aggregation (four grouping sets) runs over a few hundred rows, not over every row of the days it reads.


def _netted(summary: str, edge: Callable[[str], str], keys: str, measures: str, count: str, rows: str) -> str:
    """One source: the summaries' rows of the whole months and of the edge days (the daily twin of the
    monthly table, `summary` with `_months` and its months' condition swapped), or for a count from the rows
    alone the edge days' rows grouped alike, and, for a reader some complaints are closed to, those
    complaints' own contributions to the summaries subtracted (`CLOSED_ROWS`, grouped alike, counted
    negative), netted per group; a group whose rows were all subtracted is no group at all, as when the
    period is counted from the rows alone."""
    negated = ", ".join(f"-{name}" for name in measures.split(", "))
    sums = ", ".join(f"sum({name})::int8 AS {name}" for name in measures.split(", "))
    daily = summary.replace(f"_months WHERE {MONTHS}", f"_days WHERE {DAYS_OUTSIDE}")
    assert daily != summary, summary  # every summary is read by the months' condition
    return f"""(
        SELECT {keys}, {sums} FROM (
            {summary}
            UNION ALL
            {daily}
            UNION ALL
            {edge(rows)}
            UNION ALL
            SELECT {keys}, {negated} FROM ({edge(CLOSED_ROWS)}) AS closed
        ) AS parts
        GROUP BY {keys} HAVING sum({count}) <> 0
    )"""


# Per stage, service area, month ('YYYY-MM'), outcome and exclusion.
_STAGE_MEASURES = (
    "received, declined, withdrawn, acknowledged, acknowledged_on_time, responded, responded_on_time,"
    " responded_within_original_deadline, extended, remedies, compensation_pence, independent"
)


def _stage_rows(rows: str) -> str:
    return f"""
        SELECT stage, service_area, to_char(date_trunc('month', received_on), 'YYYY-MM') AS month, outcome,
            exclusion, count(*) AS received, {_count("ended = 'declined'")} AS declined,
            {_count("ended = 'withdrawn'")} AS withdrawn, count(acknowledged_on) AS acknowledged,
            {_count("acknowledged_on <= acknowledge_by")} AS acknowledged_on_time,
            count(responded_on) AS responded,
            {_count("responded_on <= respond_by_when_answered")} AS responded_on_time,
            {_count("responded_on <= original_respond_by")} AS responded_within_original_deadline,
            {_count("extensions > 0")} AS extended, sum(remedy_count)::int8 AS remedies,
            sum(compensation_pence)::int8 AS compensation_pence,
            {_count("independent_reviewer")} AS independent
        FROM {rows} AS edge
        GROUP BY stage, service_area, date_trunc('month', received_on), outcome, exclusion"""


def stages(rows: str = STAGE_ROWS) -> str:
    return _netted(
        f"SELECT stage, service_area, to_char(month, 'YYYY-MM') AS month, outcome, exclusion,"
        f" {_STAGE_MEASURES} FROM report_stage_months WHERE {MONTHS}",
        _stage_rows,
        "stage, service_area, month, outcome, exclusion",
        _STAGE_MEASURES,
        "received",
        rows,
    )


STAGES = stages()


# Responses per stage and working days to respond.
def _days_rows(rows: str) -> str:
    return f"""
        SELECT stage, working_days_to_respond AS days, count(*) AS responses FROM {rows} AS edge
        WHERE working_days_to_respond IS NOT NULL
        GROUP BY 1, 2"""


def days(rows: str = STAGE_ROWS) -> str:
    return _netted(
        f"SELECT stage, working_days AS days, responses FROM report_days_months WHERE {MONTHS}",
        _days_rows,
        "stage, days",
        "responses",
        "responses",
        rows,
    )


DAYS = days()


# Stage rows per stage, working days of extension and agreement.
def _extension_rows(rows: str) -> str:
    return f"""
        SELECT stage, extension_working_days, extended_with_agreement, count(*) AS complaints
        FROM {rows} AS edge
        GROUP BY 1, 2, 3"""


def extensions(rows: str = STAGE_ROWS) -> str:
    return _netted(
        "SELECT stage, extension_working_days, extended_with_agreement, complaints"
        f" FROM report_extension_months WHERE {MONTHS}",
        _extension_rows,
        "stage, extension_working_days, extended_with_agreement",
        "complaints",
        "complaints",
        rows,
    )


EXTENSIONS = extensions()


# Remedies by kind.
def _remedy_rows(rows: str) -> str:
    return f"""
        SELECT remedy ->> 'kind' AS kind, count(*) AS remedies,
            coalesce(sum((remedy ->> 'amount_pence')::int8), 0)::int8 AS compensation_pence
        FROM {rows} AS edge, jsonb_array_elements(edge.remedies) AS remedy WHERE remedy_count > 0
        GROUP BY 1"""


def remedies(rows: str = STAGE_ROWS) -> str:
    return _netted(
        f"SELECT kind, remedies, compensation_pence FROM report_remedy_months WHERE {MONTHS}",
        _remedy_rows,
        "kind",
        "remedies, compensation_pence",
        "remedies",
        rows,
    )


REMEDIES = remedies()


# Complaint-wide figures, by the complaint's Stage 1 row; actions and the ombudsman from its latest stage
# row (its Stage 2 row, when there is one).
_CASE_MEASURES = (
    "complaints, responded, escalated, actions_promised, actions_done, actions_overdue, referrals, decisions"
)


def _case_rows(rows: str) -> str:
    return f"""
        SELECT coalesce(s2.ombudsman_decision, s1.ombudsman_decision) AS decision, count(*) AS complaints,
            count(s1.responded_on) AS responded, count(s2.reference) AS escalated,
            sum(coalesce(s2.actions_promised, s1.actions_promised))::int8 AS actions_promised,
            sum(coalesce(s2.actions_done, s1.actions_done))::int8 AS actions_done,
            sum(coalesce(s2.actions_overdue, s1.actions_overdue))::int8 AS actions_overdue,
            count(coalesce(s2.ombudsman_referred_on, s1.ombudsman_referred_on)) AS referrals,
            count(coalesce(s2.ombudsman_decided_on, s1.ombudsman_decided_on)) AS decisions
        FROM {rows} s1
        LEFT JOIN complaint_stages s2 ON s2.reference = s1.reference AND s2.stage = 2
        WHERE s1.stage = 1
        GROUP BY 1"""


def cases(rows: str = STAGE_ROWS) -> str:
    return _netted(
        f"SELECT decision, {_CASE_MEASURES} FROM report_case_months WHERE {MONTHS}",
        _case_rows,
        "decision",
        _CASE_MEASURES,
        "complaints",
        rows,
    )


CASES = cases()


# The learning themes: responses (and upheld ones) per root cause recorded.
def _theme_rows(rows: str) -> str:
    return f"""
        SELECT root_cause, count(*) AS responses,
            {_count("outcome IN ('upheld', 'partially_upheld')")} AS upheld
        FROM {rows} AS edge WHERE root_cause IS NOT NULL
        GROUP BY 1"""


def themes(rows: str = STAGE_ROWS) -> str:
    return _netted(
        f"SELECT root_cause, responses, upheld FROM report_theme_months WHERE {MONTHS}",
        _theme_rows,
        "root_cause",
        "responses, upheld",
        "responses",
        rows,
    )


THEMES = themes()


# On the Complaint Handling Code's clock, per stage and tenure (migration 250): CH01 and CH02.
_CODE_MEASURES = "received, acknowledged, acknowledged_within_code, responded, responded_within_code"


def _code_rows(rows: str) -> str:
    return f"""
        SELECT stage, tenure, count(*) AS received, count(acknowledged_on) AS acknowledged,
            {_count("acknowledged_on <= code_acknowledge_by")} AS acknowledged_within_code,
            count(responded_on) AS responded,
            {_count("responded_on <= code_respond_by")} AS responded_within_code
        FROM {rows} AS edge
        GROUP BY 1, 2"""


def code(rows: str = STAGE_ROWS) -> str:
    return _netted(
        f"SELECT stage, tenure, {_CODE_MEASURES} FROM report_code_months WHERE {MONTHS}",
        _code_rows,
        "stage, tenure",
        _CODE_MEASURES,
        "received",
        rows,
    )


CODE = code()


# How the early-resolution step ended, for the Stage 1 rows that went through it (migration 300).
def _early_resolution_rows(rows: str) -> str:
    return f"""
        SELECT early_resolution, count(*) AS complaints FROM {rows} AS edge
        WHERE stage = 1 AND early_resolution IS NOT NULL
        GROUP BY 1"""


def early_resolutions(rows: str = STAGE_ROWS) -> str:
    return _netted(
        f"SELECT early_resolution, complaints FROM report_early_resolution_months WHERE {MONTHS}",
        _early_resolution_rows,
        "early_resolution",
        "complaints",
        "complaints",
        rows,
    )


EARLY_RESOLUTIONS = early_resolutions()
