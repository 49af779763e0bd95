"""The real app served by uvicorn (its access log on, as `make run` and the Docker image run it) with a
worker, over the real database and Temporal test server, every log record of every logger captured: what
the log tests (test_resident_logs.py, test_staff_logs.py) search for secrets and personal data."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.services import Services
from core.settings import Settings
from domain.policy import Policy
from store.staff import DEMO_STAFF, StaffRepository
from tests.api_helpers import PASSWORD
from tests.factories import running_worker
from tests.live_server import live_server, loopback

# Everything uvicorn writes goes through these; the app's own loggers propagate to the root.
CAPTURED = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


@dataclass
class Captured(logging.Handler):
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        # The test's own HTTP client logs the URLs it requests: that is the resident's side, not the API's.
        if record.name.split(".")[0] not in ("httpx", "httpcore"):
            self.lines.append(self.format(record))

    def __hash__(self) -> int:
        return id(self)


@asynccontextmanager
async def served_with_logs(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    settings: Settings,
) -> AsyncIterator[tuple[str, Captured]]:
    """The app's base URL, served with the demo staff signed up, and the capture of every log record."""
    services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
    for user in DEMO_STAFF:
        await StaffRepository(pool).upsert(user=user, password=PASSWORD)
    # Configuring uvicorn sets up its loggers (handlers replaced), so the capture is attached after.
    config = loopback(create_app(settings, services), log_level="debug")
    captured = Captured()
    loggers = [logging.getLogger(name) for name in CAPTURED]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(captured)
        logger.setLevel(logging.DEBUG)
    try:
        async with running_worker(temporal_env, pool, policies, task_queue), live_server(config) as base:
            yield base, captured
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(captured)
            logger.setLevel(level)
