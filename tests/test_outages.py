"""An outage is answered 503 with Retry-After in the problem shape, never 500, and /readyz names the part
that is down. Real servers only: a Temporal address with nothing listening, a Temporal server shut down under
the app, a workflow with no worker to accept an update, and an embedded PostgreSQL stopped under the app.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.services import Services
from core.settings import Settings
from core.temporal import RequestDeadline, connect, data_converter, workflow_id
from devstack import servers
from devstack.servers import (
    free_port,
    register_search_attributes,
    restart_postgres,
    start_postgres,
    stop_postgres,
)
from domain.policy import Policy
from store.complaints import ComplaintRepository
from store.db import create_pool, migrate
from store.staff import DEMO_STAFF, StaffRepository
from tests.api_helpers import PASSWORD, assert_problem, bearer, complaint_body, settings_for
from tests.conftest import new_database
from tests.factories import intake, running_worker
from worker import WORKFLOWS, activities_for

DEADLINE_SECONDS = 2.0


@asynccontextmanager
async def uncached_worker(
    env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[Worker]:
    """A worker that keeps no workflow cached, so its tasks are not tied to it (a sticky queue) after it
    stops; the time-skipping server never moves a sticky task on, as a real server does after 5 seconds."""
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_for(pool, policies, client=env.client, task_queue=task_queue),
        max_cached_workflows=0,
    ) as worker:
        yield worker


@asynccontextmanager
async def app_client(
    pool: asyncpg.Pool, temporal: Client, policies: dict[str, Policy], settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    services = Services(settings=settings, pool=pool, temporal=temporal, policies=policies)
    transport = httpx.ASGITransport(app=create_app(settings, services), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def with_deadline(client: Client) -> Client:
    """The same connection, bounded as the API bounds it (core.services.open_services(for_api=True))."""
    config = client.config()
    config["interceptors"] = [RequestDeadline(DEADLINE_SECONDS)]
    return Client(**config)


def assert_unavailable(response: httpx.Response, part: str) -> None:
    problem = assert_problem(response, 503, part)
    assert problem["type"] == "service-unavailable"
    assert int(response.headers["Retry-After"]) > 0


async def _stored_case(pool: asyncpg.Pool) -> str:
    reference = f"T-{uuid.uuid4().hex[:10].upper()}"
    await ComplaintRepository(pool).insert_intake(
        reference=reference,
        workflow_id=workflow_id(reference),
        intake=intake("bexley", datetime.now(UTC) - timedelta(days=1)),
        created_by="olivia.officer",
    )
    return reference


async def test_temporal_unreachable_answers_503_and_readyz_names_it(
    pool: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    settings = settings_for("nowhere")
    temporal = await connect(
        f"127.0.0.1:{free_port()}", lazy=True, interceptors=[RequestDeadline(DEADLINE_SECONDS)]
    )
    reference = await _stored_case(pool)
    async with app_client(pool, temporal, policies, settings) as client:
        headers = bearer("olivia.officer", settings)
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        assert ready.json()["checks"]["postgres"] == "ok"
        assert ready.json()["checks"]["temporal"].startswith("unreachable")
        created = await client.post(
            "/api/complaints", json=complaint_body(), headers={**headers, "Idempotency-Key": "k-1"}
        )
        assert_unavailable(created, "Temporal")
        acted = await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=headers)
        assert_unavailable(acted, "Temporal")
        # Reads come from PostgreSQL and still work.
        listed = await client.get("/api/complaints", headers=headers)
        assert listed.status_code == 200


async def test_temporal_stopped_under_the_app_answers_503(
    pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(), test_server_existing_path=servers.test_server_binary()
    )
    await register_search_attributes(env.client, SEARCH_ATTRIBUTE_TYPES)
    settings = settings_for(task_queue)
    for user in DEMO_STAFF:
        await StaffRepository(pool).upsert(user=user, password=PASSWORD)
    async with app_client(pool, with_deadline(env.client), policies, settings) as client:
        headers = bearer("olivia.officer", settings)
        async with running_worker(env, pool, policies, task_queue):
            created = await client.post("/api/complaints", json=complaint_body(), headers=headers)
            assert created.status_code == 201, created.text
        reference = created.json()["reference"]
        await env.shutdown()  # the server process is gone; the client still points at it
        acted = await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=headers)
        assert_unavailable(acted, "Temporal")
        again = await client.post("/api/complaints", json=complaint_body(), headers=headers)
        assert_unavailable(again, "Temporal")
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["temporal"].startswith("unreachable")


async def test_an_action_no_worker_accepts_in_time_answers_503_and_a_retry_acts_once(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    settings = settings_for(task_queue)
    for user in DEMO_STAFF:
        await StaffRepository(pool).upsert(user=user, password=PASSWORD)
    async with app_client(pool, with_deadline(temporal_env.client), policies, settings) as client:
        headers = bearer("olivia.officer", settings)
        async with uncached_worker(temporal_env, pool, policies, task_queue):
            created = await client.post("/api/complaints", json=complaint_body(), headers=headers)
            assert created.status_code == 201, created.text
        reference = created.json()["reference"]
        # No worker: the update is never accepted, and the request gives up with a 503.
        retried = {**headers, "Idempotency-Key": "ack-1"}
        timed_out = await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=retried)
        assert_unavailable(timed_out, "Temporal")
        # The worker is back: the client retries (same key) as told, and the complaint is acknowledged once.
        # (The first tries may still be 503: the workflow's next task waits out its sticky queue.)
        async with uncached_worker(temporal_env, pool, policies, task_queue):
            for _ in range(10):
                done = await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=retried)
                if done.status_code != 503:
                    break
            assert done.status_code == 200, done.text
            assert done.json()["status"] == "acknowledged"
            acknowledged = [item for item in done.json()["history"] if item["action"] == "acknowledge"]
            assert len(acknowledged) == 1


async def test_postgres_stopped_under_the_app_answers_503_and_recovers(
    temporal_env: WorkflowEnvironment, policies: dict[str, Policy], task_queue: str
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="complaints-pg-outage-"))
    server = start_postgres(folder, keep_data=True)
    try:
        url = await new_database(str(server.get_uri()), "outage")
        pool = await create_pool(url, max_size=3)
        try:
            await migrate(pool)
            for user in DEMO_STAFF:
                await StaffRepository(pool).upsert(user=user, password=PASSWORD)
            # Development: the dev token endpoint answers (and then finds PostgreSQL gone).
            settings = settings_for(task_queue).model_copy(update={"environment": "development"})
            async with app_client(pool, with_deadline(temporal_env.client), policies, settings) as client:
                headers = bearer("maya.manager", settings)
                assert (await client.get("/api/complaints", headers=headers)).status_code == 200
                stop_postgres(server)
                assert_unavailable(await client.get("/api/complaints", headers=headers), "PostgreSQL")
                assert_unavailable(
                    await client.post("/api/auth/token", data={"username": "maya.manager", "password": "x"}),
                    "PostgreSQL",
                )
                assert_unavailable(
                    await client.post("/api/complaints", json=complaint_body(), headers=headers), "PostgreSQL"
                )
                ready = await client.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["checks"]["postgres"].startswith("unreachable")
                restart_postgres(server)
                assert (await client.get("/api/complaints", headers=headers)).status_code == 200
                assert (await client.get("/readyz")).json()["checks"]["postgres"] == "ok"
        finally:
            await pool.close()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
