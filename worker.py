"""The worker: registers the complaint workflow and its activities on the task queue, in one place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.deadlines import DeadlineActivities
from activities.notify import DeliverEvent, NotifyActivities
from activities.records import RecordActivities
from activities.retention import RetentionActivities
from core.schedules import ensure_schedules, scheduled_jobs
from core.services import open_services
from core.settings import Settings, get_settings
from domain.policy import Policy
from notifications.channels import Sender, sender_from_settings
from notifications.delivery import DeliveryOptions
from notifications.dispatcher import OutboxDispatcher
from store.idempotency import IdempotencyRepository
from workflows.complaint import ComplaintWorkflow
from workflows.retention import RetentionPurgeWorkflow

WORKFLOWS: Sequence[type] = [ComplaintWorkflow, RetentionPurgeWorkflow]
# The sandbox still refuses non-deterministic calls (clock, I/O, random) inside workflow code; our own modules
# are passed through instead of being imported afresh for every workflow run: they hold no mutable global
# state, and re-importing them cost more Python CPU per complaint than the engine itself (bench/README.md).
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "workflows", "domain", "activities", "core", "store", "notifications", "email_validator", "idna"
    )
)

# How often the worker deletes expired Idempotency-Keys (they already answer nothing; this frees the rows).
PURGE_INTERVAL_SECONDS = 600.0

log = logging.getLogger(__name__)


async def purge_idempotency_keys(pool: asyncpg.Pool, ttl: timedelta) -> None:
    """Delete expired Idempotency-Keys now and then, until cancelled; a database hiccup waits a round."""
    while True:
        try:
            purged = await IdempotencyRepository(pool).purge_expired(ttl=ttl)
            if purged:
                log.info("purged %d expired Idempotency-Keys", purged)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("purging expired Idempotency-Keys failed; trying again later")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


def activities_for(
    pool: asyncpg.Pool, policies: Mapping[str, Policy], sender: Sender | None = None
) -> list[Any]:
    """Every activity; `sender` delivers the outbox (by default the one NOTIFICATION_CHANNEL names)."""
    settings = get_settings()
    deadlines = DeadlineActivities(policies)
    retention = RetentionActivities(pool, policies)
    notify = NotifyActivities(
        pool,
        sender if sender is not None else sender_from_settings(settings),
        policies,
        options=DeliveryOptions.from_settings(settings),
    )

    async def deliver(workflow_id: str, seq: int) -> list[str]:
        return await notify.deliver_event(DeliverEvent(workflow_id=workflow_id, seq=seq))

    # The record activity hands each event's letters to delivery in this process once they are committed.
    records = RecordActivities(pool, deliver=deliver)
    return [
        deadlines.load_policy,
        deadlines.plan_stage,
        deadlines.due_on,
        deadlines.due_on_many,
        deadlines.shift_working_days,
        deadlines.refresh_calendar,
        deadlines.resume_clock,
        deadlines.escalation_window,
        records.record_event,
        records.allocate_reference,
        notify.deliver_event,
        retention.find_due,
        retention.delete_history,
        retention.destroy,
    ]


def build_worker(
    client: Client,
    task_queue: str,
    pool: asyncpg.Pool,
    policies: Mapping[str, Policy],
    sender: Sender | None = None,
) -> Worker:
    # Sized by settings, not SDK defaults: the cache holds open complaints in memory (README: sizing) and
    # every activity slot may hold a database connection, so the pool is sized to the slots.
    settings = get_settings()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_for(pool, policies, sender),
        workflow_runner=WORKFLOW_RUNNER,
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
    )


async def run_worker(settings: Settings) -> None:
    services = await open_services(settings, process="worker")
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
        log.info(
            "worker polling %s with %d policies; e-mail by %s",
            settings.task_queue,
            len(services.policies),
            settings.notification_channel,
        )
        background = [
            asyncio.create_task(dispatcher.run(), name="outbox-dispatcher"),
            asyncio.create_task(
                purge_idempotency_keys(services.pool, timedelta(hours=settings.idempotency_key_ttl_hours)),
                name="idempotency-purge",
            ),
        ]
        try:
            await worker.run()
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
    finally:
        await services.pool.close()


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
