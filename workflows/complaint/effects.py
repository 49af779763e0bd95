"""What the complaint workflow asks of the world, and how: activity options and `Effects`.

The policy engine's computations and the record of each event run as local activities: one action is one
workflow task, with no extra round trip to the server, and the complaint's frozen policy (and the text of
the event, for the record) travels in memory: a local activity's input is not stored in the history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import (
        DeadlineActivities,
        DueOn,
        DueOnMany,
        EscalationWindow,
        PlanStage,
        PolicyRequest,
        RefreshCalendar,
        ResumeClock,
        ShiftWorkingDays,
    )
    from activities.records import AllocateReference, RecordActivities, RecordEvent
    from core.temporal import workflow_id
    from domain.models import Actor, ClockResumed, Due, Intake, OpenComplaint, StagePlan
    from domain.policy import Policy, SentBy

# Operational errors (a database outage, a worker without a council's file yet) are retried for ever: a
# complaint never fails for them. Only data that can never be stored or counted is not retried, and the
# action that carried it is refused with the state rolled back.
NOT_RETRYABLE = ["Unrecordable", "BadDate"]
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=NOT_RETRYABLE,
)
ACTIVITY_TIMEOUT = timedelta(seconds=30)
LOCAL_TIMEOUT = timedelta(seconds=10)


async def _call(activity: Any, request: Any) -> Any:
    """Run a deadline or record activity, locally (retried for ever on an operational error)."""
    return await workflow.execute_local_activity_method(
        activity, request, start_to_close_timeout=LOCAL_TIMEOUT, retry_policy=ACTIVITY_RETRY
    )


async def load_policy(policy_id: str) -> Policy:
    policy: Policy = await workflow.execute_activity_method(
        DeadlineActivities.load_policy,
        PolicyRequest(policy_id=policy_id),
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=ACTIVITY_RETRY,
    )
    return policy


async def record(event: RecordEvent) -> None:
    await _call(RecordActivities.record_event, event)


class WorkflowEffects:
    """`domain.steps.Effects` inside the workflow: deterministic time and the policy engine through local
    activities, always with the complaint's frozen policy."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def now(self) -> datetime:
        return workflow.now()

    def _frozen(self) -> Policy:
        return self.policy

    async def plan(
        self, stage: int, received_at: datetime, acknowledged_at: datetime | None = None
    ) -> StagePlan:
        request = PlanStage(
            policy_id=self.policy.id,
            policy=self._frozen(),
            stage=stage,
            received_at=received_at,
            acknowledged_at=acknowledged_at,
        )
        plan: StagePlan = await _call(DeadlineActivities.plan_stage, request)
        return plan

    async def due(self, on: date, *, with_reminders: bool = True) -> Due:
        request = DueOn(policy_id=self.policy.id, policy=self._frozen(), on=on, with_reminders=with_reminders)
        due: Due = await _call(DeadlineActivities.due_on, request)
        return due

    async def dues(self, days: list[date]) -> list[Due]:
        """Due dates without reminders (promised actions): one local activity for all of them."""
        request = DueOnMany(policy_id=self.policy.id, policy=self.policy, days=days)
        dues: list[Due] = await _call(DeadlineActivities.due_on_many, request)
        return dues

    async def current_calendar(self) -> Policy:
        """Adopt today's calendar data (closure days) into the complaint's frozen policy, for a manager's
        recalculation."""
        self.policy = await _call(DeadlineActivities.refresh_calendar, RefreshCalendar(policy=self.policy))
        return self.policy

    async def shift(self, on: date, working_days: int) -> date:
        request = ShiftWorkingDays(
            policy_id=self.policy.id, policy=self._frozen(), on=on, working_days=working_days
        )
        shifted: date = await _call(DeadlineActivities.shift_working_days, request)
        return shifted

    async def resume_clock(
        self, respond_by: date, extension_limit_by: date | None, paused_at: datetime, resumed_at: datetime
    ) -> ClockResumed:
        request = ResumeClock(
            policy_id=self.policy.id,
            policy=self._frozen(),
            respond_by=respond_by,
            extension_limit_by=extension_limit_by,
            paused_at=paused_at,
            resumed_at=resumed_at,
        )
        resumed: ClockResumed = await _call(DeadlineActivities.resume_clock, request)
        return resumed

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
            policy=self._frozen(),
            stage=stage,
            responded_at=responded_at,
            sent_by=sent_by,
            received_at=received_at,
            matter_arose_on=matter_arose_on,
        )
        window: Due | None = await _call(DeadlineActivities.escalation_window, request)
        return window

    async def open_linked(self, intake: Intake, actor: Actor) -> str:
        """A new linked complaint runs as its own workflow (abandoned by this one, so it outlives it), under
        the same frozen policy."""
        reference: str = await _call(
            RecordActivities.allocate_reference, AllocateReference(year=workflow.now().year)
        )
        await workflow.start_child_workflow(
            "Complaint",
            OpenComplaint(reference=reference, intake=intake, opened_by=actor, policy=self._frozen()),
            id=workflow_id(reference),
            task_queue=workflow.info().task_queue,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        return reference
