"""The deadline half of `domain.steps.Effects`, written once: each request to the policy engine
(`activities.deadlines.DeadlineActivities`) built from the complaint's frozen policy.

Two subclasses differ only in how a request runs: the workflow's (workflows/complaint/effects.py) as a local
activity, the in-process one (activities/engine_effects.py: letter previews, the steps' unit tests) by
calling the engine directly. A new deadline computation is one method here and one activity there.

The workflow imports this module through the sandbox: it builds requests and nothing else (no clock, I/O,
randomness or calendar look-up; tests/test_workflow_determinism.py watches it run).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TypeVar

from activities.deadlines import (
    DeadlineActivities,
    DueOn,
    DueOnMany,
    EscalationWindow,
    PlanStage,
    RefreshCalendar,
    ResumeClock,
    ShiftWorkingDays,
)
from domain.models import ClockResumed, Due, StagePlan
from domain.policy import Policy, SentBy

Request = TypeVar("Request")
Result = TypeVar("Result")
# One of the engine's activity methods, unbound: how a subclass runs it is its own affair.
Computation = Callable[[DeadlineActivities, Request], Awaitable[Result]]


class DeadlineRequests(ABC):
    """The policy engine's computations for one complaint, always under its frozen policy."""

    policy: Policy

    @abstractmethod
    async def _execute(self, computation: Computation[Request, Result], request: Request) -> Result:
        """Run one of the engine's computations on a request."""

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
        return await self._execute(DeadlineActivities.plan_stage, request)

    async def due(self, on: date, *, with_reminders: bool = True) -> Due:
        request = DueOn(policy_id=self.policy.id, policy=self.policy, on=on, with_reminders=with_reminders)
        return await self._execute(DeadlineActivities.due_on, request)

    async def dues(self, days: list[date]) -> list[Due]:
        """Due dates without reminders (promised actions): one request for all of them."""
        request = DueOnMany(policy_id=self.policy.id, policy=self.policy, days=days)
        return await self._execute(DeadlineActivities.due_on_many, request)

    async def current_calendar(self) -> Policy:
        """Adopt today's calendar data (closure days) into the complaint's frozen policy, for a manager's
        recalculation."""
        self.policy = await self._execute(
            DeadlineActivities.refresh_calendar, RefreshCalendar(policy=self.policy)
        )
        return self.policy

    async def shift(self, on: date, working_days: int) -> date:
        request = ShiftWorkingDays(
            policy_id=self.policy.id, policy=self.policy, on=on, working_days=working_days
        )
        return await self._execute(DeadlineActivities.shift_working_days, request)

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
        return await self._execute(DeadlineActivities.resume_clock, request)

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
        return await self._execute(DeadlineActivities.escalation_window, request)
