"""The worker: registers the complaint workflow and its activities on the task queue, in one place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from activities.deadlines import DeadlineActivities
from activities.records import RecordActivities
from core.settings import Settings, get_settings
from core.temporal import connect
from domain.policy import Policy
from domain.policy_files import load_policies
from store.db import create_pool, migrate
from workflows.complaint import ComplaintWorkflow

WORKFLOWS: Sequence[type] = [ComplaintWorkflow]


def activities_for(pool: asyncpg.Pool, policies: Mapping[str, Policy]) -> list[Any]:
    deadlines = DeadlineActivities(policies)
    records = RecordActivities(pool)
    return [
        deadlines.load_policy,
        deadlines.plan_stage,
        deadlines.due_on,
        deadlines.shift_working_days,
        deadlines.resume_clock,
        deadlines.escalation_window,
        records.record_event,
        records.allocate_reference,
    ]


def build_worker(
    client: Client, task_queue: str, pool: asyncpg.Pool, policies: Mapping[str, Policy]
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_for(pool, policies),
    )


async def run_worker(settings: Settings) -> None:
    if not settings.database_url or not settings.temporal_address:
        raise SystemExit("DATABASE_URL and TEMPORAL_ADDRESS must be set (make run sets them for you)")
    # Refuse to start on an invalid policy file: PolicyFileError names the file, field and reason.
    policies = load_policies(settings.policies_dir)
    pool = await create_pool(settings.database_url)
    try:
        await migrate(pool)
        client = await connect(settings.temporal_address, settings.temporal_namespace)
        worker = build_worker(client, settings.task_queue, pool, policies)
        logging.getLogger(__name__).info(
            "worker polling %s with %d policies", settings.task_queue, len(policies)
        )
        await worker.run()
    finally:
        await pool.close()


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
