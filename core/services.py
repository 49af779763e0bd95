"""What a process of the service holds open: settings, loaded policies, the database pool, the Temporal
client. The API and the worker start the same way, here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg
from temporalio.client import Client

from core.settings import Settings
from core.temporal import connect
from domain.policy import Policy
from domain.policy_files import load_policies
from store.db import create_pool, database_ssl, migrate


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    temporal: Client
    policies: dict[str, Policy]


async def open_services(settings: Settings, process: Literal["api", "worker"] = "api") -> Services:
    """Load the policies (an invalid file stops the process, naming file, field and reason), open the pool,
    apply migrations and connect to Temporal."""
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL must be set (make run sets it for you)")
    policies = load_policies(settings.policies_dir)
    pool = await create_pool(
        settings.database_url, max_size=settings.database_pool_size_for(process), ssl=database_ssl(settings)
    )
    try:
        await migrate(pool)
        temporal = await connect(settings=settings)
    except BaseException:
        await pool.close()
        raise
    return Services(settings=settings, pool=pool, temporal=temporal, policies=policies)
