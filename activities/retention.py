"""Retention activities: find complaints past retention, delete their Temporal history, destroy their
personal data in PostgreSQL. Each is idempotent, so the purge workflow may retry any of them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

import asyncpg
from pydantic import BaseModel
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domain.policy import Policy
from domain.retention import retention_cutoff
from store.retention import DueCase, RetentionRepository

log = logging.getLogger(__name__)
TERMINATE_REASON = "retention period over: the complaint's personal data is destroyed"


class FindDue(BaseModel):
    as_of: datetime
    after_reference: str = ""
    limit: int = 100


class DueCases(BaseModel):
    cases: list[DueCase]


class DestroyCase(BaseModel):
    reference: str
    workflow_id: str
    policy_id: str
    destroyed_at: datetime


class RetentionActivities:
    def __init__(self, pool: asyncpg.Pool, policies: Mapping[str, Policy]) -> None:
        self._pool = pool
        self._policies = policies

    @activity.defn(name="find_complaints_past_retention")
    async def find_due(self, request: FindDue) -> DueCases:
        """Finalised complaints whose policy's retention ran out before `as_of`. A complaint whose policy
        this worker does not know is left alone: data is never destroyed on a guessed rule."""
        cutoffs = {
            policy_id: retention_cutoff(policy, request.as_of) for policy_id, policy in self._policies.items()
        }
        cases = await RetentionRepository(self._pool).due(
            cutoffs=cutoffs, after_reference=request.after_reference, limit=request.limit
        )
        return DueCases(cases=cases)

    @activity.defn(name="delete_complaint_history")
    async def delete_history(self, case: DestroyCase) -> int:
        """Delete every run of the complaint's workflow from Temporal (history, memo, search attributes),
        terminating it first if it is still running. Returns the runs deleted (0: already gone)."""
        client = activity.client()
        handle = client.get_workflow_handle(case.workflow_id)
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return 0
            raise
        if description.status is WorkflowExecutionStatus.RUNNING:
            try:
                await handle.terminate(reason=TERMINATE_REASON)
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
        run_ids = {description.run_id} | await _earlier_runs(client, case.workflow_id)
        deleted = 0
        for run_id in sorted(run_ids):
            try:
                await client.workflow_service.delete_workflow_execution(
                    DeleteWorkflowExecutionRequest(
                        namespace=client.namespace,
                        workflow_execution=WorkflowExecution(workflow_id=case.workflow_id, run_id=run_id),
                    )
                )
                deleted += 1
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
        return deleted

    @activity.defn(name="destroy_personal_data")
    async def destroy(self, case: DestroyCase) -> bool:
        policy = self._policies[case.policy_id]
        return await RetentionRepository(self._pool).destroy_personal_data(
            reference=case.reference, at=case.destroyed_at, retention_years=policy.retention_years
        )


async def _earlier_runs(client: Client, workflow_id: str) -> set[str]:
    """Runs before a continue-as-new keep their own history: find them through visibility."""
    escaped = workflow_id.replace("\\", "\\\\").replace("'", "\\'")
    runs: set[str] = set()
    async for execution in client.list_workflows(f"WorkflowId = '{escaped}'"):
        runs.add(execution.run_id)
    return runs
