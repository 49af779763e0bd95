"""What a process of the service holds open: settings, loaded policies, the database pool, the Temporal
client. The API and the worker start the same way, here."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from temporalio.client import Client
from temporalio.runtime import Runtime

from core.settings import Settings
from core.temporal import connect
from domain.policy import Policy
from domain.policy_files import load_policies
from store.db import create_pool, migrate


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    temporal: Client
    policies: dict[str, Policy]


async def open_services(settings: Settings, runtime: Runtime | None = None) -> Services:
    """Load the policies (an invalid file stops the process, naming file, field and reason), open the pool,
    apply migrations and connect to Temporal (through `runtime` if given: the worker's exports metrics)."""
    if not settings.database_url or not settings.temporal_address:
        raise RuntimeError("DATABASE_URL and TEMPORAL_ADDRESS must be set (make run sets them for you)")
    policies = load_policies(settings.policies_dir)
    pool = await create_pool(settings.database_url)
    try:
        await migrate(pool)
        temporal = await connect(settings.temporal_address, settings.temporal_namespace, runtime=runtime)
    except BaseException:
        await pool.close()
        raise
    return Services(settings=settings, pool=pool, temporal=temporal, policies=policies)
