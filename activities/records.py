"""The record activity: every workflow event lands in Postgres (case record, event trail, outbox)."""

from __future__ import annotations

import asyncpg
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.models import ComplaintState, Notification, Transition
from store.complaints import ComplaintRepository


class RecordEvent(BaseModel):
    workflow_id: str
    created_by: str
    state: ComplaintState
    transition: Transition | None = None
    notifications: list[Notification] = []


class AllocateReference(BaseModel):
    year: int


class RecordActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name="record_event")
    async def record_event(self, event: RecordEvent) -> None:
        try:
            await ComplaintRepository(self._pool).apply_event(
                workflow_id=event.workflow_id,
                state=event.state,
                transition=event.transition,
                notifications=event.notifications,
                created_by=event.created_by,
            )
        except asyncpg.DataError as error:
            # Data PostgreSQL will never accept: retrying cannot help, and must not hold the complaint up.
            raise ApplicationError(str(error), type="Unrecordable", non_retryable=True) from error

    @activity.defn(name="allocate_reference")
    async def allocate_reference(self, request: AllocateReference) -> str:
        """A new complaint reference (a gap in the numbers after a retry is harmless; a duplicate is not)."""
        return await ComplaintRepository(self._pool).next_reference(year=request.year)
