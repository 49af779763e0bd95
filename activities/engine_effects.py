"""`domain.steps.Effects` with the policy engine called directly, outside a workflow.

The workflow calls the same engine (`activities.deadlines.DeadlineActivities`) through local activities
(workflows/complaint/effects.py); a letter preview (api/letter_preview.py) and the plain unit tests of the
steps (tests/direct_effects.py) call it here, in one place, so the three cannot drift apart.
"""

from __future__ import annotations

from datetime import date, datetime

from activities.deadlines import (
    DeadlineActivities,
    DueOn,
    DueOnMany,
    EscalationWindow,
    PlanStage,
    ResumeClock,
    ShiftWorkingDays,
)
from domain.models import Actor, ClockResumed, Due, Intake, StagePlan
from domain.policy import Policy, SentBy


class EngineEffects:
    """The policy engine for one complaint's policy, the clock fixed at `now` (a subclass may move it)."""

    def __init__(self, policy: Policy, now: datetime) -> None:
        self.policy = policy
        self.clock = now
        self.engine = DeadlineActivities({policy.id: policy})

    def now(self) -> datetime:
        return self.clock

    async def plan(
        self, stage: int, received_at: datetime, acknowledged_at: datetime | None = None
    ) -> StagePlan:
        request = PlanStage(
            policy_id=self.policy.id,
            policy=self.policy,
            stage=stage,
            received_at=received_at,
            acknowledged_at=acknowledged_at,
        )
        return await self.engine.plan_stage(request)

    async def due(self, on: date, *, with_reminders: bool = True) -> Due:
        request = DueOn(policy_id=self.policy.id, policy=self.policy, on=on, with_reminders=with_reminders)
        return await self.engine.due_on(request)

    async def dues(self, days: list[date]) -> list[Due]:
        """Due dates without reminders (promised actions), as the workflow asks for them."""
        return await self.engine.due_on_many(
            DueOnMany(policy_id=self.policy.id, policy=self.policy, days=days)
        )

    async def current_calendar(self) -> Policy:
        return self.policy

    async def shift(self, on: date, working_days: int) -> date:
        request = ShiftWorkingDays(
            policy_id=self.policy.id, policy=self.policy, on=on, working_days=working_days
        )
        return await self.engine.shift_working_days(request)

    async def resume_clock(
        self, respond_by: date, extension_limit_by: date | None, paused_at: datetime, resumed_at: datetime
    ) -> ClockResumed:
        request = ResumeClock(
            policy_id=self.policy.id,
            policy=self.policy,
            respond_by=respond_by,
            extension_limit_by=extension_limit_by,
            paused_at=paused_at,
            resumed_at=resumed_at,
        )
        return await self.engine.resume_clock(request)

    async def escalation_window(
        self,
        stage: int,
        responded_at: datetime,
        sent_by: SentBy = SentBy.EMAIL,
        received_at: datetime | None = None,
        matter_arose_on: date | None = None,
    ) -> Due | None:
        request = EscalationWindow(
            policy_id=self.policy.id,
            policy=self.policy,
            stage=stage,
            responded_at=responded_at,
            sent_by=sent_by,
            received_at=received_at,
            matter_arose_on=matter_arose_on,
        )
        return await self.engine.escalation_window(request)

    async def open_linked(self, intake: Intake, actor: Actor) -> str:
        # Only the workflow opens a complaint; outside it a subclass names the one it would open.
        raise NotImplementedError("a linked complaint is opened by the workflow")
