"""Staff awareness and training on complaint handling (the SPSO's indicator 3): a complaints manager records
each session or awareness activity (when, what, how many staff it reached); the indicator set and the
annual report count them. Every entry is audited (the topic as its length and keyed hash)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import CurrentStaff, Policies, Pool, RequestId, require, whole_council_only
from api.errors import PROBLEM_RESPONSES, ProblemError, known_policy
from domain.inputs import CleanInput
from store.audit import AuditRepository
from store.report_learning import put_training, staff_training

router = APIRouter(prefix="/api/reports/staff-training", tags=["reports"])

PolicyQuery = Annotated[str, Query(max_length=63)]
Kind = Literal["training", "awareness"]


class TrainingEntry(CleanInput):
    held_on: date = Field(description="The day of the session or activity")
    kind: Kind = Field(description="training (a course or session) or awareness (a briefing, a bulletin)")
    topic: str = Field(min_length=1, max_length=500)
    staff_reached: int = Field(ge=0, le=1_000_000, description="Staff who took part or were reached")


class StoredTrainingEntry(BaseModel):
    id: int
    policy_id: str
    held_on: date
    kind: Kind
    topic: str
    staff_reached: int
    entered_by: str
    entered_at: datetime


def _dates(*days: date) -> None:
    for day in days:
        if not 2000 <= day.year <= 2100:
            raise ProblemError(422, "Invalid request", "a date from 2000 to 2100 is needed")


@router.post("", status_code=201, responses=PROBLEM_RESPONSES)
async def record_training(
    staff: CurrentStaff,
    pool: Pool,
    policies: Policies,
    request_id: RequestId,
    policy_id: PolicyQuery,
    body: TrainingEntry,
) -> StoredTrainingEntry:
    """Record one session or awareness activity for the council (a complaints manager)."""
    require("annual_report_entry", staff)
    whole_council_only(staff)
    known_policy(policies, policy_id)
    _dates(body.held_on)
    async with pool.acquire() as connection, connection.transaction():
        stored = await put_training(
            connection,
            policy_id=policy_id,
            held_on=body.held_on,
            kind=body.kind,
            topic=body.topic,
            staff_reached=body.staff_reached,
            entered_by=staff.id,
        )
        await AuditRepository(connection).append_by(
            staff,
            "staff_training_entry",
            reference=None,
            request_id=request_id,
            after={"policy_id": policy_id, **body.model_dump(mode="json"), "entry_id": stored["id"]},
        )
    return StoredTrainingEntry(**stored)


@router.get("", responses=PROBLEM_RESPONSES)
async def training_entries(
    staff: CurrentStaff,
    pool: Pool,
    policies: Policies,
    policy_id: PolicyQuery,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> dict[str, object]:
    """The sessions recorded for the council from `from` to `to` (inclusive), counted."""
    require("reports", staff)
    whole_council_only(staff)
    known_policy(policies, policy_id)
    _dates(start, end)
    return await staff_training(pool, policy_id=policy_id, start=start, end=end)
