"""The managers' daily overdue digest, run by the `overdue-digest` schedule at 08:00 Europe/London.

The workflow fixes the run's instant and asks one activity to queue the digests of that local day
(activities/digest.py); its result, visible in the Temporal UI, lists who was sent which references.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.digest import DigestActivities, DigestResult, WriteDigests


class DigestRun(BaseModel):
    """The schedule passes nothing (the day is today's local date); an operator may name a day."""

    on: date | None = None


@workflow.defn(name="OverdueDigest")
class OverdueDigestWorkflow:
    @workflow.run
    async def run(self, request: DigestRun | None = None) -> DigestResult:
        # The run's instant is fixed here (a retried activity sees the same day); the activity turns it into
        # the council's local date (the sandbox has no time-zone files).
        result = await workflow.execute_activity_method(
            DigestActivities.write_overdue_digests,
            WriteDigests(at=workflow.now(), on=request.on if request else None),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=10),
        )
        workflow.logger.info("overdue digest for %s: %d messages", result.on, len(result.digests))
        return result
