"""Complaints whose workflow is stuck (core/stuck.py decides), kept for the `complaints_workflow_stuck`
metric and the reconciliation's report (migrations/210_workflow_stuck.sql)."""

from __future__ import annotations

from core.stuck import Health
from store.complaints import Executor

_RECORD = """
INSERT INTO workflow_stuck (reference, workflow_id, attempts, reason) VALUES ($1, $2, $3, $4)
ON CONFLICT (reference) DO UPDATE SET attempts = EXCLUDED.attempts, reason = EXCLUDED.reason,
    last_seen = now(), cleared_at = NULL,
    first_seen = CASE WHEN workflow_stuck.cleared_at IS NULL THEN workflow_stuck.first_seen ELSE now() END
"""


async def record_stuck(db: Executor, *, reference: str, workflow_id: str, health: Health) -> None:
    await db.execute(_RECORD, reference, workflow_id, health.stuck_attempts, health.reason)


async def clear_stuck(db: Executor, *, reference: str) -> None:
    await db.execute(
        "UPDATE workflow_stuck SET cleared_at = now() WHERE reference = $1 AND cleared_at IS NULL", reference
    )


async def stuck_count(db: Executor) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM workflow_stuck WHERE cleared_at IS NULL")
    return count
