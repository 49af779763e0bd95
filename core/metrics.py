"""Prometheus metrics of the API and the worker (`prometheus-client`, default registry).

- `http_requests_total` and `http_request_duration_seconds`, by method, route template and status: the API's
  middleware (api/observability.py) counts every request. The route is the template
  (`/api/complaints/{reference}`), never the path, so a series is never made per complaint or per token.
- `complaints_open` by policy, stage and status, `complaints_overdue` by policy and
  `complaints_outbox_messages` by state: read from the read model when the API's `/metrics` is scraped,
  at most once per `METRICS_REFRESH_SECONDS` (the answer is cached between scrapes); with them
  `complaints_workflow_stuck`, the complaints whose workflow task keeps failing (table `workflow_stuck`,
  written by the API when an action meets one and by the nightly reconciliation).
- `complaints_activity_failures_total` by activity: the worker's interceptor (activities/observability.py)
  counts each failed attempt of an activity.
The Temporal SDK's own metrics (workflow task failures, latencies, poller counts) are served by its runtime
on `TEMPORAL_METRICS_PORT` (worker.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import asyncpg
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from domain.models import FINAL_STATUSES

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ACTIVITY_FAILURES = Counter(
    "complaints_activity_failures", "Failed activity attempts, by activity type", ["activity"]
)

# Every state an outbox row can be in (migrations/003_outbox_delivery.sql): each is reported, 0 included.
OUTBOX_STATES = ("pending", "sending", "sent", "uncertain", "failed", "skipped")

_OPEN = """
SELECT policy_id, stage, status, count(*) AS open, count(*) FILTER (WHERE overdue) AS overdue
FROM complaints WHERE status <> ALL($1::text[])
GROUP BY policy_id, stage, status
"""
_OUTBOX = "SELECT status, count(*) AS messages FROM notifications GROUP BY status"
_STUCK = "SELECT count(*) FROM workflow_stuck WHERE cleared_at IS NULL"


@dataclass
class ReadModelSnapshot:
    open: dict[tuple[str, int, str], int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    stuck: int = 0


class ReadModelCollector(Collector):
    """The read model's gauges, from the last snapshot (nothing until a process refreshes it: the worker
    never does, so the figures come from the API alone and are never counted twice)."""

    def __init__(self) -> None:
        self.snapshot: ReadModelSnapshot | None = None
        self.policies: Sequence[str] = ()
        self.taken_at = 0.0
        self._lock = asyncio.Lock()

    async def refresh(self, pool: asyncpg.Pool, policies: Iterable[str], max_age: float) -> None:
        """Read the figures again unless the last read is younger than `max_age` seconds."""
        async with self._lock:
            if self.snapshot is not None and time.monotonic() - self.taken_at < max_age:
                return
            snapshot = ReadModelSnapshot()
            rows = await pool.fetch(_OPEN, [status.value for status in FINAL_STATUSES])
            for row in rows:
                snapshot.open[(row["policy_id"], row["stage"], row["status"])] = row["open"]
                snapshot.overdue[row["policy_id"]] = (
                    snapshot.overdue.get(row["policy_id"], 0) + row["overdue"]
                )
            for row in await pool.fetch(_OUTBOX):
                snapshot.outbox[row["status"]] = row["messages"]
            snapshot.stuck = await pool.fetchval(_STUCK)
            self.snapshot, self.policies, self.taken_at = snapshot, sorted(policies), time.monotonic()

    def collect(self) -> Iterable[Metric]:
        snapshot = self.snapshot
        if snapshot is None:
            return
        opened = GaugeMetricFamily(
            "complaints_open",
            "Open complaints, by policy, stage and status",
            labels=["policy", "stage", "status"],
        )
        for (policy, stage, status), count in sorted(snapshot.open.items()):
            opened.add_metric([policy, str(stage), status], count)
        yield opened
        overdue = GaugeMetricFamily(
            "complaints_overdue", "Open complaints that are overdue, by policy", labels=["policy"]
        )
        # Every loaded policy is reported, 0 included, so a rise from nothing shows in a rate or an alert.
        for policy in sorted(set(self.policies) | set(snapshot.overdue)):
            overdue.add_metric([policy], snapshot.overdue.get(policy, 0))
        yield overdue
        outbox = GaugeMetricFamily(
            "complaints_outbox_messages", "Outbox messages, by delivery state", labels=["state"]
        )
        for state in sorted(set(OUTBOX_STATES) | set(snapshot.outbox)):
            outbox.add_metric([state], snapshot.outbox.get(state, 0))
        yield outbox
        stuck = GaugeMetricFamily(
            "complaints_workflow_stuck",
            "Complaints whose workflow task keeps failing (they do not move and their timers do not fire)",
        )
        stuck.add_metric([], snapshot.stuck)
        yield stuck


READ_MODEL = ReadModelCollector()
REGISTRY.register(READ_MODEL)
