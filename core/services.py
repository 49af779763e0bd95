"""What a process of the service holds open: settings, loaded policies, the database pool, the Temporal
client. The API and the worker start the same way, here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg
from temporalio.client import Client
from temporalio.runtime import Runtime

from core.settings import Settings
from core.temporal import RequestDeadline, connect
from domain.policy import Policy
from domain.policy_files import load_policies
from store.db import create_pool, database_ssl, migrate


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    temporal: Client
    policies: dict[str, Policy]


async def open_services(
    settings: Settings,
    process: Literal["api", "worker"] = "api",
    *,
    for_api: bool = False,
    runtime: Runtime | None = None,
) -> Services:
    """Load the policies (an invalid file stops the process, naming file, field and reason), open the pool,
    apply migrations and connect to Temporal. `for_api`: connect at the first call (the API starts, and
    answers 503, while Temporal is down) and bound how long a request waits for it; `runtime`: the worker's,
    which exports the SDK's metrics."""
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL must be set (make run sets it for you)")
    policies = load_policies(settings.policies_dir)
    pool = await create_pool(
        settings.database_url, max_size=settings.database_pool_size_for(process), ssl=database_ssl(settings)
    )
    try:
        await migrate(pool)
        temporal = await connect(
            settings=settings,
            lazy=for_api,
            # The API bounds how long a request waits for Temporal (503 after); the worker has no deadline.
            interceptors=[RequestDeadline(settings.temporal_request_timeout)] if for_api else [],
            runtime=runtime,
        )
    except BaseException:
        await pool.close()
        raise
    return Services(settings=settings, pool=pool, temporal=temporal, policies=policies)
