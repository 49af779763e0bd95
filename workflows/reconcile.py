"""The nightly reconciliation of the read model with the workflows, run by the `reconcile` schedule.

Open case rows are checked page by page (activities/reconcile.py): lagging rows are repaired from their
workflow, never-started intakes are started, rows whose workflow is missing are flagged; then running
workflows whose row is lost get it back. The counts are
logged and returned as the workflow's result, so each night's run shows them in the Temporal UI.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reconcile import ReconcileActivities, ReconcilePage, ReconcilePageResult, RestoreRows

# A stored intake is given this long to be started by the API before the reconciliation starts it.
START_GRACE = timedelta(minutes=15)


class ReconcileRun(BaseModel):
    page_size: int = Field(default=200, ge=1, le=1_000)


# The result names at most this many references per kind (the counts are always complete).
LISTED = 200


class ReconcileResult(BaseModel):
    checked: int = 0
    started: int = 0
    repaired: int = 0
    flagged: int = 0
    restored: int = 0
    started_references: list[str] = Field(default_factory=list)
    repaired_references: list[str] = Field(default_factory=list)
    flagged_references: list[str] = Field(default_factory=list)
    restored_references: list[str] = Field(default_factory=list)
    # Complaints whose workflow task keeps failing: reported as complaints_workflow_stuck.
    stuck: int = 0
    stuck_references: list[str] = Field(default_factory=list)

    def add(self, page: ReconcilePageResult) -> None:
        self.stuck += len(page.stuck)
        self.stuck_references = (self.stuck_references + page.stuck)[:LISTED]
        self.checked += page.checked
        self.started += len(page.started)
        self.repaired += len(page.repaired)
        self.flagged += len(page.flagged)
        self.started_references = (self.started_references + page.started)[:LISTED]
        self.repaired_references = (self.repaired_references + page.repaired)[:LISTED]
        self.flagged_references = (self.flagged_references + page.flagged)[:LISTED]


@workflow.defn(name="Reconcile")
class ReconcileWorkflow:
    @workflow.run
    async def run(self, request: ReconcileRun | None = None) -> ReconcileResult:
        request = request or ReconcileRun()
        stored_before = workflow.now() - START_GRACE
        result = ReconcileResult()
        after: str | None = None
        while True:
            page = await workflow.execute_activity_method(
                ReconcileActivities.reconcile_page,
                ReconcilePage(after=after, limit=request.page_size, stored_before=stored_before),
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=10),
            )
            result.add(page)
            if page.last_reference is None:
                break
            after = page.last_reference
        # The other way round: running workflows whose case row is lost altogether.
        restored = await workflow.execute_activity_method(
            ReconcileActivities.restore_missing_rows,
            RestoreRows(),
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=10),
        )
        result.restored = len(restored)
        result.restored_references = restored[:LISTED]
        workflow.logger.info(
            "reconciliation: %d checked, %d started, %d repaired, %d flagged, %d rows restored,"
            " %d complaints_workflow_stuck",
            result.checked,
            result.started,
            result.repaired,
            result.flagged,
            result.restored,
            result.stuck,
        )
        return result
