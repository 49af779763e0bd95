"""Equality monitoring answers: written apart from the case (no reference), read only as counts."""

from __future__ import annotations

from datetime import date

from domain.equality import MIN_RESPONDENTS, QUESTIONS, EqualityAnswers
from store.complaints import Executor


class AlreadyAnswered(Exception):
    """This complaint's equality form was already given."""


class EqualityRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def submit(
        self, *, reference: str, policy_id: str, on: date, source: str, answers: EqualityAnswers
    ) -> None:
        """Store the answers without the reference, and mark the complaint as answered (once)."""
        marked = await self._db.execute(
            "INSERT INTO equality_answered (reference) VALUES ($1) ON CONFLICT DO NOTHING", reference
        )
        if not marked.endswith(" 1"):
            raise AlreadyAnswered(reference)
        await self._db.execute(
            "INSERT INTO equality_monitoring (policy_id, submitted_on, source, answers)"
            " VALUES ($1, $2, $3, $4)",
            policy_id,
            on,
            source,
            answers.model_dump(mode="json", exclude_none=True),
        )

    async def answered(self, *, reference: str) -> bool:
        found = await self._db.fetchval("SELECT 1 FROM equality_answered WHERE reference = $1", reference)
        return found is not None

    async def counts(
        self, *, since: date, until: date, policy_id: str | None
    ) -> tuple[int, dict[str, dict[str, int]]]:
        """How many answered in the period, and per question how many gave each answer (or none)."""
        total = await self._db.fetchval(
            "SELECT count(*) FROM equality_monitoring WHERE submitted_on BETWEEN $1 AND $2"
            " AND ($3::text IS NULL OR policy_id = $3)",
            since,
            until,
            policy_id,
        )
        rows = await self._db.fetch(
            "SELECT q.question, COALESCE(answers ->> q.question, 'not_answered') AS answer, count(*) AS n"
            " FROM equality_monitoring, unnest($4::text[]) AS q(question)"
            " WHERE submitted_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR policy_id = $3)"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            since,
            until,
            policy_id,
            QUESTIONS,
        )
        by_question: dict[str, dict[str, int]] = {question: {} for question in QUESTIONS}
        for row in rows:
            by_question[row["question"]][row["answer"]] = int(row["n"])
        return int(total or 0), by_question

    async def thin_months(self, *, since: date, until: date, policy_id: str | None) -> int:
        """How many (council, month) groups of the period have respondents, but fewer than MIN_RESPONDENTS
        (issue 29: a report over them could be differenced down to a few people)."""
        found = await self._db.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM equality_monitoring WHERE submitted_on BETWEEN $1 AND $2"
            " AND ($3::text IS NULL OR policy_id = $3)"
            " GROUP BY policy_id, date_trunc('month', submitted_on) HAVING count(*) < $4) AS thin",
            since,
            until,
            policy_id,
            MIN_RESPONDENTS,
        )
        return int(found or 0)


async def forget_answered(db: Executor, reference: str) -> int:
    """Drop the note that a complaint's equality form was given (the retention purge); the answers
    themselves hold no reference and stay, as anonymous counts."""
    result = await db.execute("DELETE FROM equality_answered WHERE reference = $1", reference)
    return int(result.split()[-1])
