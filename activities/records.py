"""The record activity: every workflow event lands in Postgres (case record, event trail, outbox).

It carries the event, not the complaint: the transition (with the text written with it: a note, a message,
the findings; the workflow keeps none of it), the read model's columns after it, the stage's ledger and the
promised actions only when they changed, and the intake only with the first event (which creates the case
row: the workflow is the only writer of its row). It runs as a local activity, so its input never enters
the workflow's history. After the
transaction commits, the event's letters are handed to delivery in this process; the outbox dispatcher
sends whatever that misses (a crash in between, a mail server down).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import date
from typing import Any

import asyncpg
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.facts import with_code_clock
from domain.models import (
    CaseRow,
    Intake,
    LedgerEntry,
    Notification,
    StageFacts,
    TrackedAction,
    Transition,
)
from domain.policy import Policy
from store.complaints import ComplaintRepository

log = logging.getLogger(__name__)

Deliver = Callable[[str, int], Coroutine[Any, Any, Any]]


class RecordEvent(BaseModel):
    workflow_id: str
    created_by: str
    reference: str = ""
    seq: int = 0
    row: CaseRow | None = None
    intake: Intake | None = None
    ledger: list[LedgerEntry] | None = None
    agreed_up_to: date | None = None
    actions: list[TrackedAction] | None = None
    transition: Transition | None = None
    # The facts of the event's stage, for reports (None from workflows that ran before reporting).
    stage: StageFacts | None = None
    notifications: list[Notification] = []


class AllocateReference(BaseModel):
    year: int


class RecordActivities:
    def __init__(
        self,
        pool: asyncpg.Pool,
        deliver: Deliver | None = None,
        policies: Mapping[str, Policy] | None = None,
    ) -> None:
        self._pool = pool
        self._deliver = deliver
        self._deliveries: set[asyncio.Task[Any]] = set()
        # The councils' calendars, for the stage's dates on the Complaint Handling Code's clock (CH02).
        self._policies = policies or {}
        self._policy_of: dict[str, str] = {}  # reference -> policy id (a complaint never changes council)

    async def _with_code_clock(self, event: RecordEvent) -> StageFacts | None:
        """The event's stage facts with their Code-clock dates, computed here (the workflow never consults
        a calendar for reports). A council the worker does not know leaves them empty (the rebuild fills
        them)."""
        if event.stage is None or not self._policies:
            return event.stage
        policy_id = (
            event.intake.policy_id if event.intake is not None else self._policy_of.get(event.reference)
        )
        if policy_id is None:
            policy_id = await self._pool.fetchval(
                "SELECT policy_id FROM complaints WHERE reference = $1", event.reference
            )
        if policy_id is None or policy_id not in self._policies:
            return event.stage
        if len(self._policy_of) > 100_000:  # a bound on the memory it takes
            self._policy_of.clear()
        self._policy_of[event.reference] = policy_id
        return with_code_clock(event.stage, self._policies[policy_id])

    @activity.defn(name="record_event")
    async def record_event(self, event: RecordEvent) -> None:
        repository = ComplaintRepository(self._pool)
        try:
            assert event.row is not None, "a record carries the read model's row"
            queued = await repository.record(
                workflow_id=event.workflow_id,
                reference=event.reference,
                seq=event.seq,
                row=event.row,
                intake=event.intake,
                created_by=event.created_by,
                ledger=event.ledger,
                agreed_up_to=event.agreed_up_to,
                actions=event.actions,
                transition=event.transition,
                notifications=event.notifications,
                stage=await self._with_code_clock(event),
            )
        except asyncpg.DataError as error:
            # Data PostgreSQL will never accept: retrying cannot help, and must not hold the complaint up.
            raise ApplicationError(str(error), type="Unrecordable", non_retryable=True) from error
        if queued and self._deliver is not None:
            self._hand_to_delivery(event.workflow_id, event.seq)

    def _hand_to_delivery(self, workflow_id: str, seq: int) -> None:
        """Send the event's letters now, in the background: the action never waits on e-mail."""
        assert self._deliver is not None
        task = asyncio.get_running_loop().create_task(self._deliver(workflow_id, seq))
        self._deliveries.add(task)
        task.add_done_callback(self._delivered)

    def _delivered(self, task: asyncio.Task[Any]) -> None:
        self._deliveries.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("delivery left to the outbox dispatcher: %s", task.exception())

    @activity.defn(name="allocate_reference")
    async def allocate_reference(self, request: AllocateReference) -> str:
        """A new complaint reference (a gap in the numbers after a retry is harmless; a duplicate is not)."""
        return await ComplaintRepository(self._pool).next_reference(year=request.year)
