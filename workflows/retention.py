"""The retention purge: run daily by a Temporal Schedule (core/schedules.py), it destroys the personal data
of every finalised complaint past its policy's retention period.

For each complaint: its workflow is terminated if still running and deleted from Temporal (every run), then
its personal data is destroyed in PostgreSQL with an audit record, in that order, so a failure in between
leaves the case still due and the next run finishes it. Every step is idempotent. A complaint that keeps
failing is skipped (the cursor moves on) and tried again the next day; the run's result names it.
Deterministic: the only clock is `workflow.now()`, and everything else happens in activities.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.retention import DestroyCase, FindDue, RetentionActivities

RETENTION_PURGE = "RetentionPurge"
BATCH = 100
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
    non_retryable_error_types=["KeyError"],
)
TIMEOUT = timedelta(minutes=2)


class PurgeRequest(BaseModel):
    """What the schedule passes: nothing. `as_of` measures retention against another moment than the run's
    own (tests stand seven years ahead with it); `after_reference` and the counts carry a continued run."""

    as_of: datetime | None = None
    after_reference: str = ""
    destroyed: int = 0
    failed: list[str] = Field(default_factory=list)


class PurgeReport(BaseModel):
    as_of: datetime
    destroyed: int
    failed: list[str]


@workflow.defn(name=RETENTION_PURGE)
class RetentionPurgeWorkflow:
    @workflow.run
    async def run(self, request: PurgeRequest) -> PurgeReport:
        as_of = request.as_of or workflow.now()
        cursor, destroyed, failed = request.after_reference, request.destroyed, list(request.failed)
        while True:
            due = await workflow.execute_activity_method(
                RetentionActivities.find_due,
                FindDue(as_of=as_of, after_reference=cursor, limit=BATCH),
                start_to_close_timeout=TIMEOUT,
                retry_policy=RETRY,
            )
            if not due.cases:
                return PurgeReport(as_of=as_of, destroyed=destroyed, failed=failed)
            for case in due.cases:
                cursor = case.reference
                target = DestroyCase(
                    reference=case.reference,
                    workflow_id=case.workflow_id,
                    policy_id=case.policy_id,
                    destroyed_at=workflow.now(),
                )
                try:
                    await workflow.execute_activity_method(
                        RetentionActivities.delete_history,
                        target,
                        start_to_close_timeout=TIMEOUT,
                        retry_policy=RETRY,
                    )
                    if await workflow.execute_activity_method(
                        RetentionActivities.destroy,
                        target,
                        start_to_close_timeout=TIMEOUT,
                        retry_policy=RETRY,
                    ):
                        destroyed += 1
                except ActivityError as error:
                    workflow.logger.warning("retention purge of %s failed: %s", case.reference, error.cause)
                    failed.append(case.reference)
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    PurgeRequest(as_of=as_of, after_reference=cursor, destroyed=destroyed, failed=failed)
                )
