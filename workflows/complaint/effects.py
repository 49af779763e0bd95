"""What the complaint workflow asks of the world, and how: activity options and `Effects`.

The policy engine's computations and the record of each event run as local activities: one action is one
workflow task, with no extra round trip to the server, and the complaint's frozen policy (and the text of
the event, for the record) travels in memory: a local activity's input is not stored in the history.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.deadline_requests import Computation, DeadlineRequests, Request, Result
    from activities.deadlines import DeadlineActivities, PolicyRequest
    from activities.records import AllocateReference, RecordActivities, RecordEvent
    from core.temporal import workflow_id
    from domain.models import Actor, Intake, OpenComplaint
    from domain.policy import Policy

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

Owner = TypeVar("Owner")  # the class whose activity method a local activity runs


async def _call(activity: Callable[[Owner, Request], Awaitable[Result]], request: Request) -> Result:
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


class WorkflowEffects(DeadlineRequests):
    """`domain.steps.Effects` inside the workflow: deterministic time and the policy engine's requests
    (activities/deadline_requests.py, always with the complaint's frozen policy) run as local activities."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def now(self) -> datetime:
        return workflow.now()

    async def _execute(self, computation: Computation[Request, Result], request: Request) -> Result:
        return await _call(computation, request)

    async def open_linked(self, intake: Intake, actor: Actor) -> str:
        """A new linked complaint runs as its own workflow (abandoned by this one, so it outlives it), under
        the same frozen policy."""
        reference: str = await _call(
            RecordActivities.allocate_reference, AllocateReference(year=workflow.now().year)
        )
        await workflow.start_child_workflow(
            "Complaint",
            OpenComplaint(reference=reference, intake=intake, opened_by=actor, policy=self.policy),
            id=workflow_id(reference),
            task_queue=workflow.info().task_queue,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        return reference
