"""Where a report's figures come from: the whole months of its period from the monthly summaries (migration
200), the days before the first whole month and after the last from the stage rows themselves.

Each source below yields rows of additive counters, the summaries' and the stage rows' alike (a stage row
counts 1 where the summary counts many), so a report sums them without knowing which is which. The stage
rows' counters are defined as the summaries' triggers define them (migration 200); the report tests check
that a period counted from the rows only gives the same figures.

Parameters of every source: $1 and $2 the first and last month (first days) read from the summaries, $3 the
council and $4 the service area (either may be null), $5 to $8 the two ranges of days read from the rows
(an empty range has its start after its end). Queries add their own from $9.

Each source is also a function of where the edge days' rows come from: by default the stage rows themselves
(an index range scan per query), or `EDGE_ROWS`, the materialized common table expression `EDGE_CTE` a
report puts in front of one statement that computes all its figures, so the rows of a period that starts or
ends inside a month are read once, not once per query (issue 26: a year from the 16th read them four times).
"""

from __future__ import annotations

from datetime import date, timedelta


def _council_and_area(prefix: str = "") -> str:
    return f"($3::text IS NULL OR {prefix}policy_id = $3) AND ($4::text IS NULL OR {prefix}service_area = $4)"


# Issue 29 (11): the complaints closed to the reader on reads (a declared conflict of interest, or naming
# them) are left out of the figures they get, as the overdue digest leaves them out. The report's transaction
# names the reader (`complaints.report_reader`, set by store/reports.py); unset, nothing is left out. The
# monthly summaries cannot leave one complaint out, so such a reader's report is counted from the stage rows
# alone (`rows_only`).
READER = "coalesce(current_setting('complaints.report_reader', true), '')"


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
ROWS = _rows()

# The edge days' stage rows, read in place (a subquery the planner pulls up into each query)...
STAGE_ROWS = f"(SELECT * FROM complaint_stages WHERE {ROWS})"
# ... or once per statement, as a materialized common table expression every source of it scans.
EDGE_ROWS = "edge_rows"
EDGE_CTE = f"{EDGE_ROWS} AS MATERIALIZED {STAGE_ROWS}"

# Nothing: a range no date falls in.
_NONE = (date.max, date.min)


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def period_parts(start: date, end: date) -> tuple[date, date, date, date, date, date]:
    """The report parameters $1, $2 and $5 to $8 for the period from `start` to `end` (inclusive)."""
    first = start if start.day == 1 else _month_after(start)  # first day of the first whole month
    after = _month_after(end) if _month_after(end) - timedelta(days=1) == end else end.replace(day=1)
    if start > end or first >= after:  # no whole month: every day from the rows
        return (*_NONE, start, end, *_NONE)
    last = date(after.year - (after.month == 1), (after.month - 2) % 12 + 1, 1)  # the last whole month
    return (first, last, start, first - timedelta(days=1), after, end)


def rows_only(start: date, end: date) -> tuple[date, date, date, date, date, date]:
    """The same period counted from the stage rows alone (no month from the summaries)."""
    return (*_NONE, start, end, *_NONE)


def _count(condition: str) -> str:
    return f"count(*) FILTER (WHERE {condition})"


# The stage rows' part of each source is grouped like the summaries before it joins them, so a report's own
# aggregation (four grouping sets) runs over a few hundred rows, not over every row of the days it reads.


# Per stage, service area, month ('YYYY-MM'), outcome and exclusion.
def stages(rows: str = STAGE_ROWS) -> str:
    return f"""(
        SELECT stage, service_area, to_char(month, 'YYYY-MM') AS month, outcome, exclusion, received,
            declined, withdrawn, acknowledged, acknowledged_on_time, responded, responded_on_time,
            responded_within_original_deadline, extended, remedies, compensation_pence, independent
        FROM report_stage_months WHERE {MONTHS}
        UNION ALL
        SELECT stage, service_area, to_char(date_trunc('month', received_on), 'YYYY-MM'), outcome, exclusion,
            count(*), {_count("ended = 'declined'")}, {_count("ended = 'withdrawn'")},
            count(acknowledged_on), {_count("acknowledged_on <= acknowledge_by")}, count(responded_on),
            {_count("responded_on <= respond_by_when_answered")},
            {_count("responded_on <= original_respond_by")},
            {_count("extensions > 0")}, sum(remedy_count)::int8, sum(compensation_pence)::int8,
            {_count("independent_reviewer")}
        FROM {rows} AS edge
        GROUP BY stage, service_area, date_trunc('month', received_on), outcome, exclusion
    )"""


STAGES = stages()


# Responses per stage and working days to respond.
def days(rows: str = STAGE_ROWS) -> str:
    return f"""(
        SELECT stage, working_days AS days, responses FROM report_days_months WHERE {MONTHS}
        UNION ALL
        SELECT stage, working_days_to_respond, count(*) FROM {rows} AS edge
        WHERE working_days_to_respond IS NOT NULL
        GROUP BY 1, 2
    )"""


DAYS = days()


# Stage rows per stage, working days of extension and agreement.
def extensions(rows: str = STAGE_ROWS) -> str:
    return f"""(
        SELECT stage, extension_working_days, extended_with_agreement, complaints
        FROM report_extension_months WHERE {MONTHS}
        UNION ALL
        SELECT stage, extension_working_days, extended_with_agreement, count(*) FROM {rows} AS edge
        GROUP BY 1, 2, 3
    )"""


EXTENSIONS = extensions()


# Remedies by kind.
def remedies(rows: str = STAGE_ROWS) -> str:
    return f"""(
        SELECT kind, remedies, compensation_pence FROM report_remedy_months WHERE {MONTHS}
        UNION ALL
        SELECT remedy ->> 'kind', count(*), coalesce(sum((remedy ->> 'amount_pence')::int8), 0)::int8
        FROM {rows} AS edge, jsonb_array_elements(edge.remedies) AS remedy WHERE remedy_count > 0
        GROUP BY 1
    )"""


REMEDIES = remedies()


# Complaint-wide figures, by the complaint's Stage 1 row; actions and the ombudsman from its latest stage
# row (its Stage 2 row, when there is one).
def cases(rows: str = STAGE_ROWS) -> str:
    return f"""(
        SELECT decision, complaints, responded, escalated, actions_promised, actions_done, actions_overdue,
            referrals, decisions
        FROM report_case_months WHERE {MONTHS}
        UNION ALL
        SELECT coalesce(s2.ombudsman_decision, s1.ombudsman_decision), count(*), count(s1.responded_on),
            count(s2.reference), sum(coalesce(s2.actions_promised, s1.actions_promised))::int8,
            sum(coalesce(s2.actions_done, s1.actions_done))::int8,
            sum(coalesce(s2.actions_overdue, s1.actions_overdue))::int8,
            count(coalesce(s2.ombudsman_referred_on, s1.ombudsman_referred_on)),
            count(coalesce(s2.ombudsman_decided_on, s1.ombudsman_decided_on))
        FROM {rows} s1
        LEFT JOIN complaint_stages s2 ON s2.reference = s1.reference AND s2.stage = 2
        WHERE s1.stage = 1
        GROUP BY 1
    )"""


CASES = cases()


# The learning themes: responses (and upheld ones) per root cause recorded.
def themes(rows: str = STAGE_ROWS) -> str:
    return f"""(
        SELECT root_cause, responses, upheld FROM report_theme_months WHERE {MONTHS}
        UNION ALL
        SELECT root_cause, count(*), {_count("outcome IN ('upheld', 'partially_upheld')")}
        FROM {rows} AS edge WHERE root_cause IS NOT NULL
        GROUP BY 1
    )"""


THEMES = themes()


# On the Complaint Handling Code's clock, per stage and tenure (migration 250): CH01 and CH02.
def code(rows: str = STAGE_ROWS) -> str:
    return f"""(
        SELECT stage, tenure, received, acknowledged, acknowledged_within_code, responded,
            responded_within_code
        FROM report_code_months WHERE {MONTHS}
        UNION ALL
        SELECT stage, tenure, count(*), count(acknowledged_on),
            {_count("acknowledged_on <= code_acknowledge_by")}, count(responded_on),
            {_count("responded_on <= code_respond_by")}
        FROM {rows} AS edge
        GROUP BY 1, 2
    )"""


CODE = code()


# How the early-resolution step ended, for the Stage 1 rows that went through it (migration 300).
def early_resolutions(rows: str = STAGE_ROWS) -> str:
    return f"""(
        SELECT early_resolution, complaints FROM report_early_resolution_months WHERE {MONTHS}
        UNION ALL
        SELECT early_resolution, count(*) FROM {rows} AS edge
        WHERE stage = 1 AND early_resolution IS NOT NULL
        GROUP BY 1
    )"""


EARLY_RESOLUTIONS = early_resolutions()
