"""The response waiting for a manager's approval (issue 25, policy `response_approval`), read from the event
trail: the workflow keeps only who drafted it and its event's sequence, the text is PostgreSQL's. The API and
the console both approve exactly this draft (api.casework fills it into the approve_response command)."""

from __future__ import annotations

import asyncpg

from store.complaints import EventRecord

DRAFT_ACTIONS = ("respond", "approve_response", "return_response")


async def waiting_draft(pool: asyncpg.Pool, reference: str) -> EventRecord | None:
    """The drafted response's event if the last word on it is the draft itself (not yet approved or
    returned); else None."""
    row = await pool.fetchrow(
        "SELECT seq, at, action, actor_id, actor_role, stage, from_status, to_status, detail"
        " FROM complaint_events WHERE reference = $1 AND action = ANY($2::text[]) ORDER BY seq DESC LIMIT 1",
        reference,
        list(DRAFT_ACTIONS),
    )
    if row is None or row["action"] != "respond" or not (row["detail"] or {}).get("draft"):
        return None
    return EventRecord.model_validate(dict(row))
