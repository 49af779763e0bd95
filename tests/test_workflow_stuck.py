"""A complaint whose workflow task keeps failing is never silently stuck (issue 23): the API answers 503
saying staff were alerted (never "archived"), and the complaint is counted in `complaints_workflow_stuck`
(the metric and the nightly reconciliation's report)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from prometheus_client import REGISTRY
from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.reconcile import ReconcileActivities, ReconcilePage
from api.main import create_app
from core.metrics import READ_MODEL
from core.services import Services
from core.stuck import STUCK_ATTEMPTS, workflow_health
from core.temporal import RequestDeadline, workflow_id
from domain.models import OpenComplaint
from domain.policy import Policy
from store.complaints import ComplaintRepository
from store.staff import DEMO_STAFF, StaffRepository
from tests.api_helpers import PASSWORD, assert_problem, bearer, settings_for
from tests.factories import OFFICER, intake


@workflow.defn(name="Complaint", sandboxed=False)
class FaultyComplaint:
    """A release with a bug on the workflow's path: every workflow task fails (Temporal retries it)."""

    @workflow.run
    async def run(self, start: OpenComplaint) -> None:
        raise RuntimeError("a bug in this release")


async def _stuck_case(env: WorkflowEnvironment, pool: asyncpg.Pool, task_queue: str) -> str:
    reference = f"STUCK-{uuid.uuid4().hex[:6]}"
    complaint = intake("bexley", datetime.now(UTC) - timedelta(days=1))
    await ComplaintRepository(pool).insert_intake(
        reference=reference, workflow_id=workflow_id(reference), intake=complaint, created_by=OFFICER.id
    )
    await pool.execute("UPDATE complaints SET last_seq = 0 WHERE reference = $1", reference)
    await env.client.start_workflow(
        "Complaint",
        OpenComplaint(reference=reference, intake=complaint, opened_by=OFFICER),
        id=workflow_id(reference),
        task_queue=task_queue,
    )
    for _ in range(600):  # the server retries a failed workflow task with a growing backoff
        if (await workflow_health(env.client, workflow_id(reference))).stuck_attempts:
            return reference
        await asyncio.sleep(0.1)
    raise AssertionError(f"the workflow task never failed {STUCK_ATTEMPTS} times")


async def test_a_stuck_complaint_answers_503_staff_alerted_and_is_reported(
    dev_server: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = dev_server
    settings = settings_for(task_queue)
    for user in DEMO_STAFF:
        await StaffRepository(pool).upsert(user=user, password=PASSWORD)
    config = env.client.config()
    config["interceptors"] = [RequestDeadline(2)]  # as the API bounds its calls
    temporal = Client(**config)
    async with Worker(env.client, task_queue=task_queue, workflows=[FaultyComplaint]):
        reference = await _stuck_case(env, pool, task_queue)
        services = Services(settings=settings, pool=pool, temporal=temporal, policies=policies)
        transport = httpx.ASGITransport(app=create_app(settings, services), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.post(
                f"/api/complaints/{reference}/acknowledge",
                json={},
                headers=bearer("olivia.officer", settings),
            )
        problem = assert_problem(answer, 503, "staff have been alerted")
        assert problem["type"] == "workflow-stuck" and "archived" not in problem["detail"]
        assert int(answer.headers["Retry-After"]) > 0
        assert (
            await pool.fetchval(
                "SELECT attempts FROM workflow_stuck WHERE reference = $1 AND cleared_at IS NULL", reference
            )
            >= STUCK_ATTEMPTS
        )

        # The metric counts it.
        await READ_MODEL.refresh(pool, policies, max_age=0)
        assert (REGISTRY.get_sample_value("complaints_workflow_stuck") or 0) >= 1

        # The nightly reconciliation reports it (and would clear it once the workflow runs again).
        activities = ReconcileActivities(pool, env.client, task_queue, policies)
        request = ReconcilePage(after=reference[:-1], limit=500, stored_before=datetime.now(UTC))
        page = await ActivityEnvironment().run(activities.reconcile_page, request)
        assert reference in page.stuck and reference not in page.flagged
