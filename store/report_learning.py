"""Learning from complaints and staff awareness, counted from the service's records (migration 370): the
SPSO's indicators 1 (learning) and 3 (staff awareness and training), and the service improvements section
of the Code's annual report.

- Lessons: the responses of the period's complaints that recorded learning, by root cause (the learning
  themes, from the same summaries as every other report figure: store/report_sources.py THEMES).
- Improvements promised: the improvements recorded with the responses on the period's complaints (counted
  by the complaint's date of receipt, as every other figure).
- Improvements made: the improvements marked done in the period (by the day they were done, whichever year
  the complaint came), listed with the council's words for them; the ombudsman's orders done likewise.
- Staff awareness and training: the sessions and activities a complaints manager recorded in the period,
  with how many staff each reached.

Like the performance report, the complaints closed to the report's reader (report_sources.READER, when the
report's transaction names one) are left out of the improvements.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from store import report_sources as sources
from store import reports
from store.complaints import Executor

_OPEN = sources.open_to_reader("improvement_actions")

_LESSONS = f"""
SELECT root_cause, sum(responses)::int8 AS responses
FROM {sources.THEMES} AS themes
GROUP BY root_cause ORDER BY 2 DESC, 1
"""

_PROMISED = f"""
SELECT count(*)::int8 FROM improvement_actions
WHERE ($1::text IS NULL OR policy_id = $1) AND received_on BETWEEN $2 AND $3 AND kind = 'improvement'
    AND {_OPEN}
"""

_MADE = f"""
SELECT kind, completed_on, service_area, description FROM improvement_actions
WHERE ($1::text IS NULL OR policy_id = $1) AND completed_on BETWEEN $2 AND $3 AND {_OPEN}
ORDER BY completed_on, service_area, reference, action_id
"""

_TRAINING = """
SELECT held_on, kind, topic, staff_reached FROM staff_training_entries
WHERE ($1::text IS NULL OR policy_id = $1) AND held_on BETWEEN $2 AND $3
ORDER BY held_on, id
"""

_PUT_TRAINING = """
INSERT INTO staff_training_entries (policy_id, held_on, kind, topic, staff_reached, entered_by)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, policy_id, held_on, kind, topic, staff_reached, entered_by, entered_at
"""

# What a description reads as once the retention purge has cleared it (the improvement still counts).
CLEARED = "(description cleared with the complaint's records)"


async def learning(db: Executor, *, policy_id: str | None, start: date, end: date) -> dict[str, Any]:
    """The SPSO's indicator 1 for the council's period: lessons by root cause, improvements promised on
    the period's complaints, and the improvements (and ombudsman's orders) made in it (every council's
    without one)."""
    async with reports.reading(db) as snapshot:  # one snapshot: the figures agree with each other
        lessons = await snapshot.fetch(_LESSONS, *reports.period_args(start, end, policy_id, None))
        made = [dict(row) for row in await snapshot.fetch(_MADE, policy_id, start, end)]
        promised = await snapshot.fetchval(_PROMISED, policy_id, start, end)
    improvements = [row for row in made if row["kind"] == "improvement"]
    return {
        "responses_with_learning": sum(row["responses"] for row in lessons),
        "root_causes": {row["root_cause"]: row["responses"] for row in lessons},
        "improvements_promised": promised,
        "improvements_made": len(improvements),
        "ombudsman_orders_done": len(made) - len(improvements),
        "improvements": [
            {
                "completed_on": row["completed_on"].isoformat(),
                "service_area": row["service_area"],
                "description": row["description"] if row["description"] is not None else CLEARED,
            }
            for row in improvements
        ],
    }


async def staff_training(db: Executor, *, policy_id: str | None, start: date, end: date) -> dict[str, Any]:
    """The SPSO's indicator 3 for the council's period (every council's without one): the sessions
    recorded, by kind, and the staff they reached."""
    rows = [dict(row) for row in await db.fetch(_TRAINING, policy_id, start, end)]
    by_kind = {"training": 0, "awareness": 0}
    for row in rows:
        by_kind[row["kind"]] += 1
    return {
        "sessions": len(rows),
        "by_kind": by_kind,
        "staff_reached": sum(row["staff_reached"] for row in rows),
        "entries": [{**row, "held_on": row["held_on"].isoformat()} for row in rows],
    }


async def put_training(
    db: Executor,
    *,
    policy_id: str,
    held_on: date,
    kind: str,
    topic: str,
    staff_reached: int,
    entered_by: str,
) -> dict[str, Any]:
    """Record one session or awareness activity; returns it as stored."""
    row = await db.fetchrow(_PUT_TRAINING, policy_id, held_on, kind, topic, staff_reached, entered_by)
    assert row is not None
    return dict(row)
