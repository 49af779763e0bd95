"""What a process of the service holds open: settings, loaded policies, the database pool, the Temporal
client. The API and the worker start the same way, here."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from temporalio.client import Client

from core.settings import Settings
from core.temporal import RequestDeadline, connect
from domain.policy import Policy
from domain.policy_files import load_policies
from store.db import create_pool, migrate


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    temporal: Client
    policies: dict[str, Policy]


async def open_services(settings: Settings, *, for_api: bool = False) -> Services:
    """Load the policies (an invalid file stops the process, naming file, field and reason), open the pool,
    apply migrations and connect to Temporal. `for_api`: connect at the first call (the API starts, and
    answers 503, while Temporal is down) and bound how long a request waits for it."""
    if not settings.database_url or not settings.temporal_address:
        raise RuntimeError("DATABASE_URL and TEMPORAL_ADDRESS must be set (make run sets them for you)")
    policies = load_policies(settings.policies_dir)
    pool = await create_pool(settings.database_url)
    try:
        await migrate(pool)
        temporal = await connect(
            settings.temporal_address,
            settings.temporal_namespace,
            lazy=for_api,
            # The API bounds how long a request waits for Temporal (503 after); the worker has no deadline.
            interceptors=[RequestDeadline(settings.temporal_request_timeout)] if for_api else [],
        )
    except BaseException:
        await pool.close()
        raise
    return Services(settings=settings, pool=pool, temporal=temporal, policies=policies)
