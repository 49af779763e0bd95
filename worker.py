"""The worker: registers the complaint workflow and its activities on the task queue, in one place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from wsgiref.simple_server import WSGIServer

import asyncpg
from prometheus_client import start_http_server
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.deadlines import DeadlineActivities
from activities.digest import DigestActivities
from activities.notify import DeliverEvent, NotifyActivities
from activities.observability import ObservabilityInterceptor
from activities.reconcile import ReconcileActivities
from activities.records import RecordActivities
from activities.retention import RetentionActivities
from core.logs import configure_logging
from core.schedules import ensure_schedules, scheduled_jobs
from core.services import open_services
from core.settings import Settings, get_settings
from domain.policy import Policy
from notifications.channels import Sender, sender_from_settings
from notifications.delivery import DeliveryOptions
from notifications.dispatcher import OutboxDispatcher
from store.complaint_drafts import DraftRepository
from store.idempotency import IdempotencyRepository
from workflows.complaint import ComplaintWorkflow
from workflows.digest import OverdueDigestWorkflow
from workflows.reconcile import ReconcileWorkflow
from workflows.retention import RetentionPurgeWorkflow

WORKFLOWS: Sequence[type] = [
    ComplaintWorkflow,
    RetentionPurgeWorkflow,
    OverdueDigestWorkflow,
    ReconcileWorkflow,
]
# Our own modules are passed through instead of being imported afresh for every workflow run: they hold no
# mutable global state, and re-importing them cost more Python CPU per complaint than the engine itself
# (bench/README.md). The workflow's own package is among them, so the sandbox does NOT see a clock read, a
# random draw or I/O in our code (it only guards modules imported inside it):
# tests/test_workflow_determinism.py does, on every path of the lifecycle.
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
            # Answers of complaints started on the resident pages and never sent (issue 30).
            drafts = await DraftRepository(pool).purge_expired()
            if drafts:
                log.info("purged %d expired complaint drafts", drafts)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("purging expired Idempotency-Keys failed; trying again later")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


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
    digest = DigestActivities(pool, policies, settings.staff_service_areas)
    reconcile = ReconcileActivities(pool, client, task_queue, policies)
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
    records = RecordActivities(pool, deliver=deliver, policies=policies)
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
        digest.write_overdue_digests,
        reconcile.reconcile_page,
        reconcile.restore_missing_rows,
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
        activities=activities_for(pool, policies, sender, client=client, task_queue=task_queue),
        workflow_runner=WORKFLOW_RUNNER,
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        # Logs of each activity carry its complaint's reference; failed attempts are counted.
        interceptors=[ObservabilityInterceptor()],
    )


def temporal_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime exporting the SDK's own metrics (workflow task failures, schedule-to-start
    latencies, pollers...) to Prometheus on TEMPORAL_METRICS_PORT; None (the default runtime) when it is 0."""
    if not settings.temporal_metrics_port:
        return None
    bind = f"{settings.metrics_host}:{settings.temporal_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind)))


def serve_worker_metrics(settings: Settings) -> WSGIServer | None:
    """The worker's own /metrics (core/metrics.py: activity failures, process figures), served by a thread
    on WORKER_METRICS_PORT; None when it is 0."""
    if not settings.worker_metrics_port:
        return None
    server, _ = start_http_server(settings.worker_metrics_port, addr=settings.metrics_host)
    return server


async def run_worker(settings: Settings) -> None:
    serve_worker_metrics(settings)
    services = await open_services(settings, process="worker", runtime=temporal_runtime(settings))
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
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
