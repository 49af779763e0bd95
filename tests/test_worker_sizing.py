"""Worker sizing comes from the settings, not SDK defaults; the database pool follows the activity slots."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from core.services import open_services
from core.settings import Settings, get_settings
from domain.policy import Policy
from worker import build_worker


@pytest.fixture
def sized(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WORKER_MAX_CACHED_WORKFLOWS", "120")
    monkeypatch.setenv("WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", "6")
    monkeypatch.setenv("WORKER_MAX_CONCURRENT_ACTIVITIES", "9")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("sized")
async def test_the_worker_takes_its_cache_and_slots_from_the_settings(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    config = build_worker(temporal_env.client, task_queue, pool, policies).config()
    assert config.get("max_cached_workflows") == 120
    assert config.get("max_concurrent_workflow_tasks") == 6
    assert config.get("max_concurrent_activities") == 9


@pytest.mark.usefixtures("sized")
async def test_the_worker_pool_has_a_connection_per_activity_slot(
    database_url: str, temporal_env: WorkflowEnvironment
) -> None:
    address = temporal_env.client.service_client.config.target_host
    settings = Settings(_env_file=None, database_url=database_url, temporal_address=address)
    worker, api = await open_services(settings, process="worker"), await open_services(settings)
    try:
        assert worker.pool.get_max_size() == 9 + 2  # the activity slots, the outbox dispatcher, start-up
        assert api.pool.get_max_size() == 10
    finally:
        await worker.pool.close()
        await api.pool.close()
    explicit = Settings(
        _env_file=None, database_url=database_url, temporal_address=address, database_pool_size=4
    )
    assert explicit.database_pool_size_for("worker") == explicit.database_pool_size_for("api") == 4
