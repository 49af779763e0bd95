"""Where a report's figures come from: the whole months of its period from the monthly summaries (migration
200), the days before the first whole month and after the last from the stage rows themselves.

Each source below yields rows of additive counters, the summaries' and the stage rows' alike (a stage row
counts 1 where the summary counts many), so a report sums them without knowing which is which. The stage
rows' counters are defined as the summaries' triggers define them (migration 200); the report tests check
that a period counted from the rows only gives the same figures.

Parameters of every source: $1 and $2 the first and last month (first days) read from the summaries, $3 the
council and $4 the service area (either may be null), $5 to $8 the two ranges of days read from the rows
(an empty range has its start after its end). Queries add their own from $9.
"""

from __future__ import annotations

from datetime import date, timedelta


def _council_and_area(prefix: str = "") -> str:
    return f"($3::text IS NULL OR {prefix}policy_id = $3) AND ($4::text IS NULL OR {prefix}service_area = $4)"


def _rows(prefix: str = "") -> str:
    """Stage rows received in the two ranges of days (an index range scan each)."""
    return (
        f"({prefix}received_on BETWEEN $5 AND $6 OR {prefix}received_on BETWEEN $7 AND $8)"
        f" AND {_council_and_area(prefix)}"
    )


MONTHS = f"month BETWEEN $1 AND $2 AND {_council_and_area()}"
ROWS = _rows()

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


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


# Per stage, service area, month ('YYYY-MM'), outcome and exclusion.
STAGES = f"""(
    SELECT stage, service_area, to_char(month, 'YYYY-MM') AS month, outcome, exclusion, received, declined,
        withdrawn, acknowledged, acknowledged_on_time, responded, responded_on_time,
        responded_within_original_deadline, extended, remedies, compensation_pence, independent
    FROM report_stage_months WHERE {MONTHS}
    UNION ALL
    SELECT stage, service_area, to_char(received_on, 'YYYY-MM'), outcome, exclusion, 1,
        {_flag("ended = 'declined'")}, {_flag("ended = 'withdrawn'")}, {_flag("acknowledged_on IS NOT NULL")},
        {_flag("acknowledged_on <= acknowledge_by")}, {_flag("responded_on IS NOT NULL")},
        {_flag("responded_on <= respond_by_when_answered")}, {_flag("responded_on <= original_respond_by")},
        {_flag("extensions > 0")}, remedy_count, compensation_pence, {_flag("independent_reviewer")}
    FROM complaint_stages WHERE {ROWS}
)"""

# Responses per stage and working days to respond.
DAYS = f"""(
    SELECT stage, working_days AS days, responses FROM report_days_months WHERE {MONTHS}
    UNION ALL
    SELECT stage, working_days_to_respond, 1 FROM complaint_stages
    WHERE working_days_to_respond IS NOT NULL AND {ROWS}
)"""

# Stage rows per stage, working days of extension and agreement.
EXTENSIONS = f"""(
    SELECT stage, extension_working_days, extended_with_agreement, complaints
    FROM report_extension_months WHERE {MONTHS}
    UNION ALL
    SELECT stage, extension_working_days, extended_with_agreement, 1 FROM complaint_stages WHERE {ROWS}
)"""

# Remedies by kind.
REMEDIES = f"""(
    SELECT kind, remedies, compensation_pence FROM report_remedy_months WHERE {MONTHS}
    UNION ALL
    SELECT remedy ->> 'kind', 1, coalesce((remedy ->> 'amount_pence')::int8, 0)
    FROM complaint_stages, jsonb_array_elements(remedies) AS remedy WHERE remedy_count > 0 AND {ROWS}
)"""

# Complaint-wide figures, by the complaint's Stage 1 row; actions and the ombudsman from its latest stage
# row (its Stage 2 row, when there is one).
CASES = f"""(
    SELECT decision, complaints, responded, escalated, actions_promised, actions_done, actions_overdue,
        referrals, decisions
    FROM report_case_months WHERE {MONTHS}
    UNION ALL
    SELECT coalesce(s2.ombudsman_decision, s1.ombudsman_decision), 1, {_flag("s1.responded_on IS NOT NULL")},
        {_flag("s2.reference IS NOT NULL")}, coalesce(s2.actions_promised, s1.actions_promised),
        coalesce(s2.actions_done, s1.actions_done), coalesce(s2.actions_overdue, s1.actions_overdue),
        {_flag("coalesce(s2.ombudsman_referred_on, s1.ombudsman_referred_on) IS NOT NULL")},
        {_flag("coalesce(s2.ombudsman_decided_on, s1.ombudsman_decided_on) IS NOT NULL")}
    FROM complaint_stages s1
    LEFT JOIN complaint_stages s2 ON s2.reference = s1.reference AND s2.stage = 2
    WHERE s1.stage = 1 AND {_rows("s1.")}
)"""
