"""`domain.steps.Effects` without Temporal: the policy engine called directly, a clock the test moves.

The apply steps and timers are pure domain code; with these effects they run in plain unit tests, so a rule
or a step is checked in milliseconds, and the workflow tests only check the sequencing.
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
from domain import timers
from domain.actions import ACTIONS
from domain.models import (
    SYSTEM,
    Actor,
    ClockResumed,
    ComplaintState,
    Due,
    Intake,
    Notification,
    StagePlan,
    Status,
    Transition,
)
from domain.policy import Policy, SentBy
from domain.steps import Applied, Ctx, new_stage, note_actor, progress


class DirectEffects:
    def __init__(self, policy: Policy, now: datetime) -> None:
        self.policy = policy
        self.clock = now
        self.engine = DeadlineActivities({policy.id: policy})
        self.linked: list[Intake] = []
        # Every letter and notice the steps and timers sent, in order (the workflow would record them).
        self.sent: list[Notification] = []

    def now(self) -> datetime:
        return self.clock

    def advance(self, delta: timedelta) -> None:
        self.clock += delta

    def patched(self, patch_id: str) -> bool:
        return True  # a new complaint: every behaviour change applies

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
    """A complaint as the workflow opens it: Stage 1 planned from the receipt, status received."""
    effects = DirectEffects(policy, intake.received_at)
    plan = await effects.plan(1, intake.received_at)
    state = ComplaintState(
        reference=reference,
        intake=intake,
        status=Status.RECEIVED,
        stage=1,
        stages=[new_stage(1, intake.received_at, plan, intake.received_at)],
    )
    return Ctx(state, policy, effects), effects


async def run(ctx: Ctx, name: str, command: cmd.Command) -> None:
    """What the workflow does for one action: the rule, the step, the new status (no recording)."""
    action = ACTIONS[name]
    refusal = action.refusal(ctx.state, ctx.policy, command, ctx.effects.now())
    assert refusal is None, refusal
    applied = await action.step(ctx, command)
    await progress.arm(ctx, applied.status)
    _apply(ctx, name, command.actor, applied)


async def fire_next(ctx: Ctx) -> str:
    """What the workflow does when its next timer passes: the clock moves to it, and its event applies."""
    effects = ctx.effects
    assert isinstance(effects, DirectEffects)
    timer = timers.next_timer(ctx.state, ctx.policy, effects.now(), effects.patched)
    assert timer is not None, "the complaint waits for no timer"
    effects.clock = max(effects.clock, timer.at)
    if timer.kind == "end_of_life":
        return timer.kind
    name, applied = timers.fire(ctx, timer)
    await progress.arm(ctx, applied.status)
    _apply(ctx, name, SYSTEM, applied)
    return timer.kind


def _apply(ctx: Ctx, name: str, actor: Actor, applied: Applied) -> None:
    if isinstance(ctx.effects, DirectEffects):
        ctx.effects.sent.extend(applied.letters)
    state = ctx.state
    if state.history:
        state.seq += 1
    state.history.append(
        Transition(
            seq=state.seq,
            at=ctx.effects.now(),
            action=name,
            actor=actor,
            stage=state.stage,
            from_status=state.status,
            to_status=applied.status,
            detail=applied.detail,
        )
    )
    state.status = applied.status
    note_actor(state, actor)
    timers.refresh_flags(state, ctx.policy)
