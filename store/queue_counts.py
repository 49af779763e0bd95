"""The staff console's queue counts, from the counters migration 421 keeps (issue 25).

Five queues (My cases, Unassigned, Overdue, Stage 2, Waiting for information) are counted from
`queue_counts`: the counters of the staff member's service areas (need-to-know; every area when they have
no limit), My cases' for them alone, less the complaints closed to them (a declared conflict of interest, or
naming them), read one by one: they are few. The result equals the count of the queue's own filters with the
API's visibility rules (api.casework.visible_filters) over the complaints; tests/test_queue_counts.py checks
it. "Due within 3 working days" depends on the time of the request: its whole hours come from
`deadline_counts` (open complaints per service area and hour of their next deadline, the same subtraction
applied), and the part of the current hour from the rows (`due_in_whole_hours` says which part is which).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.complaints import OPEN_CLAUSE, Executor
from store.report_sources import NAMES_ANYONE

# The queues the counters keep (migration 421's complaint_queue_keys).
COUNTED_QUEUES = ("mine", "unassigned", "overdue", "stage-2", "waiting")

# The complaints closed to the staff member $1: declared conflicts, and those naming them (migration 420).
_CLOSED = f"""closed AS (
    SELECT reference FROM staff_conflicts WHERE staff_id = $1
    UNION
    SELECT reference FROM complaints WHERE {NAMES_ANYONE} AND staff_complained_about @> ARRAY[$1]
)"""

_COUNTS = f"""
WITH {_CLOSED}, kept AS (
    SELECT queue, sum(complaints) AS complaints FROM queue_counts
    WHERE ($2::text[] IS NULL OR service_area = ANY($2::text[])) AND (queue <> 'mine' OR assignee = $1)
    GROUP BY queue
), left_out AS (
    SELECT key.queue, count(*) AS complaints
    FROM complaints AS c JOIN closed USING (reference),
        complaint_queue_keys(c.status, c.assigned_to, c.overdue, c.stage) AS key
    WHERE ($2::text[] IS NULL OR c.service_area = ANY($2::text[]))
        AND (key.queue <> 'mine' OR key.assignee = $1)
    GROUP BY key.queue
)
SELECT kept.queue, (kept.complaints - coalesce(left_out.complaints, 0))::int8 AS complaints
FROM kept LEFT JOIN left_out USING (queue)
"""


async def rebuild_queue_counts(db: Executor) -> None:
    """Recompute the counters from the complaints (after a restore, or rows written with the triggers off);
    writes to complaints wait for it."""
    await db.execute("SELECT queue_counts_rebuild()")


async def queue_counts(db: Executor, *, staff_id: str, service_areas: list[str] | None) -> dict[str, int]:
    """How many complaints each counted queue holds for this staff member (0 for an empty queue)."""
    rows = await db.fetch(_COUNTS, staff_id, service_areas)
    found = {row["queue"]: int(row["complaints"]) for row in rows}
    return {queue: found.get(queue, 0) for queue in COUNTED_QUEUES}


# Open complaints whose next deadline falls in the whole hours from $3 to $4 (UTC hour boundaries), in the
# staff member's areas, less those closed to them.
_DUE = f"""
WITH {_CLOSED}
SELECT (
    SELECT coalesce(sum(complaints), 0) FROM deadline_counts
    WHERE hour >= $3 AND hour < $4 AND ($2::text[] IS NULL OR service_area = ANY($2::text[]))
) - (
    SELECT count(*) FROM complaints AS c JOIN closed USING (reference)
    WHERE c.next_deadline >= $3 AND c.next_deadline < $4 AND {OPEN_CLAUSE.replace("status", "c.status")}
        AND ($2::text[] IS NULL OR c.service_area = ANY($2::text[]))
)
"""


def due_in_whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The whole UTC hours inside [start, end) the counters answer for (None: none); the rest of the range,
    before and after them, is counted from the rows."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = first if first == start else first + timedelta(hours=1)
    last = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return (first, last) if first < last else None


async def due_in(
    db: Executor, *, staff_id: str, service_areas: list[str] | None, hours: tuple[datetime, datetime]
) -> int:
    """Open complaints this staff member may see whose next deadline falls in these whole hours."""
    count: int = await db.fetchval(_DUE, staff_id, service_areas, *hours)
    return count
