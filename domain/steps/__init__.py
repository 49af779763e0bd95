"""What each action does to a complaint: one apply step per action, over (state, policy, command, effects).

A step changes the state in place and returns the new status, the details for the event trail and the
letters to send. Everything it needs from outside comes through `Effects`: the policy engine's dates and the
current time (in the workflow: local activities and `workflow.now()`). With a direct `Effects` the steps
run in plain unit tests, without Temporal. `domain.lifecycle` sequences them (rule, step, transition) for
the workflow and the tests alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from domain.models import (
    Actor,
    ClockResumed,
    ComplaintState,
    Due,
    Intake,
    LedgerEntry,
    Notification,
    Pause,
    Role,
    StagePlan,
    StageState,
    Status,
)
from domain.policy import Policy, SentBy


class Effects(Protocol):
    """What a step may ask of the world. Deterministic in the workflow (recorded in its history)."""

    def now(self) -> datetime: ...

    async def plan(
        self, stage: int, received_at: datetime, acknowledged_at: datetime | None = None
    ) -> StagePlan: ...

    async def due(self, on: date, *, with_reminders: bool = True) -> Due: ...

    async def dues(self, days: list[date]) -> list[Due]: ...

    async def current_calendar(self) -> Policy: ...

    async def shift(self, on: date, working_days: int) -> date: ...

    async def resume_clock(
        self, respond_by: date, extension_limit_by: date | None, paused_at: datetime, resumed_at: datetime
    ) -> ClockResumed: ...

    async def escalation_window(
        self,
        stage: int,
        responded_at: datetime,
        sent_by: SentBy = SentBy.EMAIL,
        received_at: datetime | None = None,
        matter_arose_on: date | None = None,
    ) -> Due | None: ...

    async def open_linked(self, intake: Intake, actor: Actor) -> str: ...


class Applied(NamedTuple):
    status: Status
    detail: dict[str, Any]
    letters: list[Notification]


@dataclass
class Ctx:
    state: ComplaintState
    policy: Policy
    effects: Effects


def clock_runs(status: Status, policy: Policy) -> bool:
    """Is the response clock running in this status? Waiting for information stops it only where the policy
    says so."""
    if status is Status.AWAITING_INFORMATION:
        return not policy.clock_stops_for_information
    return status in (Status.RECEIVED, Status.ACKNOWLEDGED, Status.ESCALATION_REQUESTED)


def open_pause(stage: StageState) -> Pause | None:
    return stage.pauses[-1] if stage.pauses and stage.pauses[-1].ended_at is None else None


def clear_overdue_if_moved_later(stage: StageState, effects: Effects) -> None:
    """A due date that moved past now is not overdue any more: its timer is armed again."""
    now = effects.now()
    if stage.response_overdue and stage.plan.respond.at > now:
        stage.response_overdue = False
    if stage.acknowledgement_overdue and stage.acknowledged_at is None and stage.plan.acknowledge.at > now:
        stage.acknowledgement_overdue = False


def new_stage(
    number: int, received_at: datetime, plan: StagePlan, now: datetime, **fields: Any
) -> StageState:
    if number == 1 and plan.early_resolution is not None:
        fields.setdefault("early_resolution", plan.early_resolution)  # issue 28: the step before Stage 1
    return StageState(
        number=number,
        received_at=received_at,
        plan=plan,
        respond_by=plan.respond.on,
        extension_limit_by=plan.extension_limit.on if plan.extension_limit else None,
        ledger=[LedgerEntry(at=now, kind="planned", respond_by=plan.respond.on)],
        **fields,
    )


# --- issue 24 (seed rules)
def note_actor(state: ComplaintState, actor: Actor) -> None:
    """Remember that a staff member acted on the complaint's current stage (its Stage 2 independence).

    Called with every recorded event; the resident and the service's own timers are not staff."""
    if actor.role in (Role.RESIDENT, Role.SYSTEM):
        return
    acted = state.current.acted_by
    if actor.id not in acted:
        acted.append(actor.id)


# --- end issue 24
