"""The one-question satisfaction survey (migration 252): answers kept apart from the complaint, only
counted."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from store.complaints import Executor

# 4 (satisfied) and 5 (very satisfied) count as satisfied.
SATISFIED_FROM = 4


class AlreadyAnswered(Exception):
    """The complaint's survey was answered already (one answer per complaint)."""


async def submit(pool: asyncpg.Pool, *, reference: str, policy_id: str, on: date, rating: int) -> None:
    """Record one answer, in one transaction with the mark that the complaint answered (no key joins them)."""
    async with pool.acquire() as connection, connection.transaction():
        marked = await connection.fetchval(
            "INSERT INTO satisfaction_answered (reference) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1",
            reference,
        )
        if marked is None:
            raise AlreadyAnswered(reference)
        await connection.execute(
            "INSERT INTO satisfaction_answers (policy_id, answered_on, rating) VALUES ($1, $2, $3)",
            policy_id,
            on,
            rating,
        )


async def answered(db: Executor, *, reference: str) -> bool:
    found = await db.fetchval("SELECT 1 FROM satisfaction_answered WHERE reference = $1", reference)
    return found is not None


async def counts(db: Executor, *, policy_id: str, start: date, end: date) -> dict[str, Any]:
    """The answers given from `start` to `end` (inclusive): how many, per rating, and the share satisfied."""
    rows = await db.fetch(
        "SELECT rating, count(*)::int8 AS answers FROM satisfaction_answers"
        " WHERE policy_id = $1 AND answered_on BETWEEN $2 AND $3 GROUP BY rating",
        policy_id,
        start,
        end,
    )
    by_rating = {str(rating): 0 for rating in range(1, 6)} | {str(r["rating"]): r["answers"] for r in rows}
    total = sum(by_rating.values())
    satisfied = sum(count for rating, count in by_rating.items() if int(rating) >= SATISFIED_FROM)
    return {
        "answers": total,
        "by_rating": by_rating,
        "satisfied": satisfied,
        "satisfied_percent": round(100 * satisfied / total, 1) if total else None,
    }
