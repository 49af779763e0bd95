"""Equality monitoring, one way for residents and officers: the answers are stored apart from the case
(store/equality.py) and never shown with it; a second form for the same complaint is refused (409)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.errors import ProblemError
from domain.equality import EqualityAnswers
from store.complaints import ComplaintRecord, Executor
from store.equality import AlreadyAnswered, EqualityRepository

ALREADY = "the equality monitoring form for this complaint has already been given"


async def submit(db: Executor, record: ComplaintRecord, answers: EqualityAnswers, source: str) -> None:
    try:
        await EqualityRepository(db).submit(
            reference=record.reference,
            policy_id=record.policy_id,
            on=datetime.now(UTC).date(),
            source=source,
            answers=answers,
        )
    except AlreadyAnswered as error:
        raise ProblemError(409, "Already given", ALREADY, "equality-already-given") from error
