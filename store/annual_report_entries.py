"""The manager-entered parts of the annual report (migration 251), per council, financial year and section."""

from __future__ import annotations

from typing import Any

from store.complaints import Executor

_PUT = """
INSERT INTO annual_report_entries (policy_id, year, section, body, entered_by)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (policy_id, year, section) DO UPDATE SET
    body = EXCLUDED.body, entered_by = EXCLUDED.entered_by, entered_at = now()
RETURNING section, body, entered_by, entered_at
"""


async def put_entry(
    db: Executor, *, policy_id: str, year: int, section: str, body: str, entered_by: str
) -> dict[str, Any]:
    """Write (or replace) one section's text; returns it as stored."""
    row = await db.fetchrow(_PUT, policy_id, year, section, body, entered_by)
    assert row is not None
    return dict(row)


async def entries(db: Executor, *, policy_id: str, year: int) -> dict[str, dict[str, Any]]:
    """Every section entered for the council's year, by section."""
    rows = await db.fetch(
        "SELECT section, body, entered_by, entered_at FROM annual_report_entries"
        " WHERE policy_id = $1 AND year = $2 ORDER BY section",
        policy_id,
        year,
    )
    return {row["section"]: dict(row) for row in rows}
