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
from activities.digest import DigestActivities
from activities.notify import NotifyActivities
from activities.reconcile import ReconcileActivities
from activities.records import RecordActivities
from core.schedules import ensure_schedules, scheduled_jobs
from core.services import open_services
from core.settings import Settings, get_settings
from domain.policy import Policy
from notifications.channels import Sender, sender_from_settings
from notifications.delivery import DeliveryOptions
from notifications.dispatcher import OutboxDispatcher
from workflows.complaint import ComplaintWorkflow
from workflows.digest import OverdueDigestWorkflow
from workflows.reconcile import ReconcileWorkflow

WORKFLOWS: Sequence[type] = [ComplaintWorkflow, OverdueDigestWorkflow, ReconcileWorkflow]


def activities_for(
    pool: asyncpg.Pool,
    policies: Mapping[str, Policy],
    sender: Sender | None = None,
    *,
    client: Client,
    task_queue: str,
) -> list[Any]:
    """Every activity; `sender` delivers the outbox (by default the one NOTIFICATION_CHANNEL names)."""
    settings = get_settings()
    digest = DigestActivities(pool, policies)
    reconcile = ReconcileActivities(pool, client, task_queue)
    deadlines = DeadlineActivities(policies)
    records = RecordActivities(pool)
    notify = NotifyActivities(
        pool,
        sender if sender is not None else sender_from_settings(settings),
        policies,
        options=DeliveryOptions.from_settings(settings),
    )
    return [
        deadlines.load_policy,
        deadlines.plan_stage,
        deadlines.due_on,
        deadlines.shift_working_days,
        deadlines.resume_clock,
        deadlines.escalation_window,
        records.record_event,
        records.allocate_reference,
        notify.deliver_event,
        digest.write_overdue_digests,
        reconcile.reconcile_page,
    ]


def build_worker(
    client: Client,
    task_queue: str,
    pool: asyncpg.Pool,
    policies: Mapping[str, Policy],
    sender: Sender | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_for(pool, policies, sender, client=client, task_queue=task_queue),
    )


async def run_worker(settings: Settings) -> None:
    services = await open_services(settings)
    try:
        # One start-up step owns every Temporal Schedule (idempotent: each worker may run it).
        await ensure_schedules(services.temporal, settings.task_queue, scheduled_jobs())
        sender = sender_from_settings(settings)
        worker = build_worker(
            services.temporal, settings.task_queue, services.pool, services.policies, sender
        )
        # The outbox dispatcher sends what no activity sent: retries after backoff, rows written by the API,
        # and claims left behind by a stopped worker (marked uncertain, never sent twice).
        dispatcher = OutboxDispatcher(
            services.pool,
            sender,
            services.policies,
            options=DeliveryOptions.from_settings(settings),
            poll_interval=5.0,
        )
        logging.getLogger(__name__).info(
            "worker polling %s with %d policies; e-mail by %s",
            settings.task_queue,
            len(services.policies),
            settings.notification_channel,
        )
        dispatching = asyncio.create_task(dispatcher.run(), name="outbox-dispatcher")
        try:
            await worker.run()
        finally:
            dispatching.cancel()
            await asyncio.gather(dispatching, return_exceptions=True)
    finally:
        await services.pool.close()


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
