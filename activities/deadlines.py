"""Deadline activities: the policy engine, called from the workflow so that holiday look-ups and clock
reads never happen in workflow code. Their results are stored in workflow history, so replay never
recomputes a date."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain import deadlines
from domain.inputs import EARLIEST, LATEST
from domain.models import ClockResumed, Due, StagePlan
from domain.policy import Policy, SentBy

# Staff reminders arrive at the start of the working day.
REMINDER_TIME = time(8, 0)


class PolicyRequest(BaseModel):
    policy_id: str


class PlanStage(BaseModel):
    policy_id: str
    # The policy the complaint froze when it started: when given, it is used instead of the worker's copy
    # (a complaint never runs under two versions of its policy). Local activities carry it at no history cost.
    policy: Policy | None = None
    stage: int
    received_at: datetime
    acknowledged_at: datetime | None = None


class DueOn(BaseModel):
    policy_id: str
    policy: Policy | None = None
    on: date
    with_reminders: bool = True


class DueOnMany(BaseModel):
    """Several dates at once (a response's promised actions): one call, not one per date."""

    policy_id: str
    policy: Policy | None = None
    days: list[date]
    with_reminders: bool = False


class RefreshCalendar(BaseModel):
    policy: Policy


class ShiftWorkingDays(BaseModel):
    policy_id: str
    policy: Policy | None = None
    on: date
    working_days: int


class ResumeClock(BaseModel):
    policy_id: str
    policy: Policy | None = None
    respond_by: date
    extension_limit_by: date | None
    paused_at: datetime
    resumed_at: datetime


class EscalationWindow(BaseModel):
    policy_id: str
    policy: Policy | None = None
    sent_by: SentBy = SentBy.EMAIL
    stage: int
    responded_at: datetime
    # Issue 28: anchors of a window of several limbs (absent from older callers: see escalation_request_by).
    received_at: datetime | None = None
    matter_arose_on: date | None = None


def _check_date(day: date) -> None:
    """Outside these years no complaint has a date (and the calendar cannot count): refuse, no retry."""
    if not EARLIEST <= day <= LATEST:
        raise ApplicationError(f"date {day.isoformat()} is out of range", type="BadDate", non_retryable=True)


class DeadlineActivities:
    """Holds the loaded policies; every method is a pure computation over them."""

    def __init__(self, policies: Mapping[str, Policy]) -> None:
        self._policies = policies

    def _policy(self, policy_id: str, frozen: Policy | None = None) -> Policy:
        if frozen is not None:
            return frozen
        try:
            return self._policies[policy_id]
        except KeyError:
            # Retryable: during a rolling deploy a worker may not have a new council's file yet; another
            # worker (or this one, restarted) will. The complaint waits; it never fails for this.
            raise ApplicationError(f"unknown policy {policy_id!r}", type="UnknownPolicy") from None

    def _due(self, policy: Policy, on: date, *, with_reminders: bool = True) -> Due:
        _check_date(on)
        cal = deadlines.calendar_for(policy)
        reminders = (
            [
                datetime.combine(day, REMINDER_TIME, tzinfo=cal.zone).astimezone(UTC)
                for day in deadlines.reminder_days(policy, on)
            ]
            if with_reminders
            else []
        )
        return Due(on=on, at=cal.end_of_day(on).astimezone(UTC), reminders=reminders)

    @activity.defn(name="load_policy")
    async def load_policy(self, request: PolicyRequest) -> Policy:
        return self._policy(request.policy_id)

    @activity.defn(name="refresh_calendar")
    async def refresh_calendar(self, request: RefreshCalendar) -> Policy:
        """The complaint's frozen policy with today's calendar data (the council's closure days) from this
        worker's copy of its file: what a manager's recalculation applies, nothing else of a newer file."""
        current = self._policies.get(request.policy.id)
        if current is None:
            return request.policy
        return request.policy.model_copy(update={"closure_days": current.closure_days})

    @activity.defn(name="plan_stage")
    async def plan_stage(self, request: PlanStage) -> StagePlan:
        policy = self._policy(request.policy_id, request.policy)
        _check_date(request.received_at.date())
        planned = deadlines.plan_stage(policy, request.stage, request.received_at, request.acknowledged_at)
        return StagePlan(
            deadlines=planned,
            acknowledge=self._due(policy, planned.acknowledge_by),
            respond=self._due(policy, planned.respond_by),
            extension_limit=(
                self._due(policy, planned.extension_limit_by, with_reminders=False)
                if planned.extension_limit_by
                else None
            ),
            early_resolution=self._early_resolution(policy, request),
        )

    def _early_resolution(self, policy: Policy, request: PlanStage) -> Due | None:
        """Issue 28: the early-resolution step's deadline, planned with Stage 1 from the receipt."""
        if request.stage != 1:
            return None
        last_day = deadlines.early_resolution_by(policy, request.received_at)
        return self._due(policy, last_day) if last_day else None

    @activity.defn(name="due_on")
    async def due_on(self, request: DueOn) -> Due:
        return self._due(
            self._policy(request.policy_id, request.policy), request.on, with_reminders=request.with_reminders
        )

    @activity.defn(name="due_on_many")
    async def due_on_many(self, request: DueOnMany) -> list[Due]:
        policy = self._policy(request.policy_id, request.policy)
        return [self._due(policy, day, with_reminders=request.with_reminders) for day in request.days]

    @activity.defn(name="shift_working_days")
    async def shift_working_days(self, request: ShiftWorkingDays) -> date:
        policy = self._policy(request.policy_id, request.policy)
        return deadlines.calendar_for(policy).add_working_days(request.on, request.working_days)

    @activity.defn(name="resume_clock")
    async def resume_clock(self, request: ResumeClock) -> ClockResumed:
        policy = self._policy(request.policy_id, request.policy)
        respond_by, lost = deadlines.resume_after_pause(
            policy, request.respond_by, request.paused_at, request.resumed_at
        )
        limit = request.extension_limit_by
        if limit is not None and lost:
            limit = deadlines.calendar_for(policy).add_working_days(limit, lost)
        return ClockResumed(
            working_days_lost=lost,
            respond=self._due(policy, respond_by),
            extension_limit=self._due(policy, limit, with_reminders=False) if limit else None,
        )

    @activity.defn(name="escalation_window")
    async def escalation_window(self, request: EscalationWindow) -> Due | None:
        policy = self._policy(request.policy_id, request.policy)
        last_day = deadlines.escalation_request_by(
            policy,
            request.stage,
            request.responded_at,
            request.sent_by,
            request.received_at,
            request.matter_arose_on,
        )
        return self._due(policy, last_day, with_reminders=False) if last_day else None
