"""`domain.steps.Effects` without Temporal: the policy engine called directly, a clock the test moves.

The apply steps and timers are pure domain code; with these effects they run in plain unit tests through the
workflow's own event sequence (`domain.lifecycle`), so a rule or a step is checked in milliseconds, and the
workflow tests only check what Temporal adds (timers, recording, continue-as-new).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from activities.deadlines import (
    DeadlineActivities,
    DueOn,
    EscalationWindow,
    PlanStage,
    ResumeClock,
    ShiftWorkingDays,
)
from domain import commands as cmd
from domain import lifecycle, timers
from domain.actions import ACTIONS
from domain.models import SYSTEM, Actor, ClockResumed, Due, Intake, Notification, StagePlan, Transition
from domain.policy import Policy, SentBy
from domain.steps import Ctx


class DirectEffects:
    def __init__(self, policy: Policy, now: datetime) -> None:
        self.policy = policy
        self.clock = now
        self.engine = DeadlineActivities({policy.id: policy})
        self.linked: list[Intake] = []
        # Every letter and notice the steps and timers sent, in order (the workflow would record them).
        self.sent: list[Notification] = []
        # Every event's transition, in order (the workflow writes them to the event trail in PostgreSQL).
        self.trail: list[Transition] = []

    def now(self) -> datetime:
        return self.clock

    def advance(self, delta: timedelta) -> None:
        self.clock += delta

    async def plan(
        self, stage: int, received_at: datetime, acknowledged_at: datetime | None = None
    ) -> StagePlan:
        return await self.engine.plan_stage(
            PlanStage(
                policy_id=self.policy.id,
                policy=self.policy,
                stage=stage,
                received_at=received_at,
                acknowledged_at=acknowledged_at,
            )
        )

    async def due(self, on: date, *, with_reminders: bool = True) -> Due:
        return await self.engine.due_on(
            DueOn(policy_id=self.policy.id, policy=self.policy, on=on, with_reminders=with_reminders)
        )

    async def dues(self, days: list[date]) -> list[Due]:
        return [await self.due(day, with_reminders=False) for day in days]

    async def current_calendar(self) -> Policy:
        return self.policy

    async def shift(self, on: date, working_days: int) -> date:
        return await self.engine.shift_working_days(
            ShiftWorkingDays(policy_id=self.policy.id, policy=self.policy, on=on, working_days=working_days)
        )

    async def resume_clock(
        self, respond_by: date, extension_limit_by: date | None, paused_at: datetime, resumed_at: datetime
    ) -> ClockResumed:
        return await self.engine.resume_clock(
            ResumeClock(
                policy_id=self.policy.id,
                policy=self.policy,
                respond_by=respond_by,
                extension_limit_by=extension_limit_by,
                paused_at=paused_at,
                resumed_at=resumed_at,
            )
        )

    async def escalation_window(
        self,
        stage: int,
        responded_at: datetime,
        sent_by: SentBy = SentBy.EMAIL,
        received_at: datetime | None = None,
        matter_arose_on: date | None = None,
    ) -> Due | None:
        return await self.engine.escalation_window(
            EscalationWindow(
                policy_id=self.policy.id,
                policy=self.policy,
                stage=stage,
                responded_at=responded_at,
                sent_by=sent_by,
                received_at=received_at,
                matter_arose_on=matter_arose_on,
            )
        )

    async def open_linked(self, intake: Intake, actor: Actor) -> str:
        self.linked.append(intake)
        return f"LINKED-{len(self.linked)}"


async def new_complaint(policy: Policy, intake: Intake, reference: str = "T-1") -> tuple[Ctx, DirectEffects]:
    """A complaint as the workflow opens it (domain.lifecycle.open_complaint): Stage 1 planned from the
    receipt, status received."""
    effects = DirectEffects(policy, intake.received_at)
    opened = await lifecycle.open_complaint(reference, intake, SYSTEM, policy, effects)
    return Ctx(opened.state, policy, effects), effects


async def run(ctx: Ctx, name: str, command: cmd.Command) -> None:
    """What the workflow does for one action (domain.lifecycle.take_action), the change swapped in at once
    (no recording)."""
    change = await lifecycle.take_action(ctx.state, ctx.policy, ctx.effects, ACTIONS[name], command)
    _swap(ctx, change)


async def fire_next(ctx: Ctx) -> str:
    """What the workflow does when its next timer passes: the clock moves to it, and its event applies."""
    effects = ctx.effects
    assert isinstance(effects, DirectEffects)
    timer = timers.next_timer(ctx.state, ctx.policy, effects.now())
    assert timer is not None, "the complaint waits for no timer"
    effects.clock = max(effects.clock, timer.at)
    if timer.kind == "end_of_life":
        return timer.kind
    _swap(ctx, await lifecycle.fire_timer(ctx.state, ctx.policy, effects, timer))
    return timer.kind


def _swap(ctx: Ctx, change: lifecycle.Change) -> None:
    effects = ctx.effects
    assert isinstance(effects, DirectEffects)
    effects.sent.extend(change.letters)
    effects.trail.append(change.transition)
    ctx.state, ctx.policy = change.state, change.policy
