"""Operations can see the service: Prometheus metrics from the API and the worker, and JSON log lines naming
the request, the complaint and the staff member (and never a resident's details or token)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.logs import ContextFilter, LogContext, configure_logging, json_formatter, logging_context
from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.services import Services
from core.settings import REPO_ROOT, Settings
from core.temporal import data_converter
from devstack import servers
from devstack.mail import MailCatcher
from devstack.servers import free_port, register_search_attributes
from domain.policy import Policy
from notifications.channels import SmtpSender
from store.db import create_pool, migrate
from store.staff import DEMO_STAFF, StaffRepository
from tests.api_helpers import PASSWORD, bearer, complaint_body, settings_for
from tests.conftest import new_database
from tests.factories import intake, open_complaint
from worker import build_worker, serve_worker_metrics, temporal_runtime

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(exposition: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and sorted labels."""
    found: Samples = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def own_db(postgres_server_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A database of this test's own: the read-model figures must count only its complaints."""
    pool = await create_pool(await new_database(postgres_server_url, "complaints_metrics"), max_size=8)
    await migrate(pool)
    for user in DEMO_STAFF:
        await StaffRepository(pool).upsert(user=user, password=PASSWORD)
    yield pool
    await pool.close()


@pytest.fixture
async def app_and_worker(
    temporal_env: WorkflowEnvironment,
    own_db: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    catcher: MailCatcher,
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    settings = settings_for(task_queue).model_copy(update={"metrics_refresh_seconds": 0.0})
    services = Services(settings=settings, pool=own_db, temporal=temporal_env.client, policies=policies)
    smtp = SmtpSender(host=catcher.host, port=catcher.port, mail_from="complaints@council.example", timeout=5)
    async with build_worker(temporal_env.client, task_queue, own_db, policies, smtp):
        transport = httpx.ASGITransport(app=create_app(settings, services), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, settings


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def test_api_metrics_count_requests_by_route_and_read_the_complaints_and_outbox(
    app_and_worker: tuple[httpx.AsyncClient, Settings],
    temporal_env: WorkflowEnvironment,
    own_db: asyncpg.Pool,
) -> None:
    client, settings = app_and_worker
    officer = bearer("olivia.officer", settings)
    before = await scrape(client)
    created = "/api/complaints"

    references = []
    for _ in range(2):
        response = await client.post(created, json=complaint_body(), headers=officer)
        assert response.status_code == 201, response.text
        references.append(response.json()["reference"])
    westminster = await client.post(created, json=complaint_body(policy_id="westminster"), headers=officer)
    assert westminster.status_code == 201
    response = await client.post(f"/api/complaints/{references[0]}/acknowledge", json={}, headers=officer)
    assert response.status_code == 200, response.text
    assert (await client.get("/api/complaints/CMP-1999-999999", headers=officer)).status_code == 404
    assert (
        await client.get("/api/complaints", headers={"Authorization": "Bearer nonsense"})
    ).status_code == 401

    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    action_route = "/api/complaints/{reference}/acknowledge"
    assert delta("http_requests_total", method="POST", route=created, status="201") == 3
    assert delta("http_requests_total", method="POST", route=action_route, status="200") == 1
    one = "/api/complaints/{reference}"
    assert delta("http_requests_total", method="GET", route=one, status="404") == 1
    assert delta("http_requests_total", method="GET", route="/api/complaints", status="401") == 1
    assert delta("http_request_duration_seconds_count", method="POST", route=created, status="201") == 3
    assert not any(ref in str(labels) for (_, labels) in after for ref in references)  # no series per case
    assert value(after, "http_requests_total", method="GET", route="/metrics", status="200") == 0

    assert value(after, "complaints_open", policy="bexley", stage="1", status="received") == 1
    assert value(after, "complaints_open", policy="bexley", stage="1", status="acknowledged") == 1
    assert value(after, "complaints_open", policy="westminster", stage="1", status="received") == 1
    for policy in ("bexley", "westminster", "barking-dagenham"):  # every policy, 0 included
        assert (("complaints_overdue", (("policy", policy),)) in after) and value(
            after, "complaints_overdue", policy=policy
        ) == 0
    # Delivery runs beside the requests: once nothing is in flight, the outbox holds still to be compared.
    for _ in range(200):
        if not await own_db.fetchval(
            "SELECT count(*) FROM notifications WHERE status IN ('pending', 'sending')"
        ):
            break
        await asyncio.sleep(0.1)
    after = await scrape(client)
    outbox = {
        row["status"]: row["n"]
        for row in await own_db.fetch("SELECT status, count(*) AS n FROM notifications GROUP BY status")
    }
    assert outbox.get("sent", 0) >= 3  # the acknowledgement and the staff notices went out
    for state in ("pending", "sending", "sent", "uncertain", "failed", "skipped"):
        assert value(after, "complaints_outbox_messages", state=state) == outbox.get(state, 0)
    # No complaint is stuck (tests/test_workflow_stuck.py makes one): the gauge is there, at 0.
    assert ("complaints_workflow_stuck", ()) in after and value(after, "complaints_workflow_stuck") == 0

    # Days pass: the unacknowledged Bexley complaint misses its acknowledgement date and shows as overdue.
    await temporal_env.sleep(timedelta(days=10))
    for _ in range(100):
        if (
            await own_db.fetchval("SELECT count(*) FROM complaints WHERE overdue AND policy_id = 'bexley'")
            >= 1
        ):
            break
        await asyncio.sleep(0.1)
    later = await scrape(client)
    assert value(later, "complaints_overdue", policy="bexley") == 1
    assert (
        value(later, "complaints_overdue", policy="westminster") == 1
    )  # its 2 days to acknowledge passed too


async def test_worker_metrics_count_activity_failures_and_export_the_sdk_metrics(
    own_db: asyncpg.Pool, policies: dict[str, Policy], task_queue: str, json_lines: io.StringIO
) -> None:
    settings = Settings(
        environment="test",
        metrics_host="127.0.0.1",
        worker_metrics_port=free_port(),
        temporal_metrics_port=free_port(),
    )
    runtime = temporal_runtime(settings)
    assert runtime is not None
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(),
        test_server_existing_path=servers.test_server_binary(),
        runtime=runtime,
    )
    server = serve_worker_metrics(settings)
    assert server is not None
    try:
        await register_search_attributes(env.client, SEARCH_ATTRIBUTE_TYPES)
        async with httpx.AsyncClient() as http:
            worker_url = f"http://127.0.0.1:{settings.worker_metrics_port}/metrics"
            before = samples((await http.get(worker_url)).text)
            failures = "complaints_activity_failures_total"
            async with build_worker(env.client, task_queue, own_db, policies):
                now = await env.get_current_time()
                # No worker knows this council: loading its policy fails, and is retried (a rolling deploy
                # may bring the file), so the complaint waits. Each failed attempt is counted.
                handle = await open_complaint(env, task_queue, intake("no-such-council", now))
                for _ in range(300):
                    current = samples((await http.get(worker_url)).text)
                    if value(current, failures, activity="load_policy") > value(
                        before, failures, activity="load_policy"
                    ):
                        break
                    await asyncio.sleep(0.1)
                await handle.terminate("test over")
            # The worker's line about the failed activity names the complaint.
            reference = handle.id.removeprefix("complaint-")
            failed_lines = [line for line in lines(json_lines) if line.get("reference") == reference]
            assert failed_lines and all(line["workflow_id"] == handle.id for line in failed_lines)
            assert any(line["level"] == "WARNING" for line in failed_lines)
            after = samples((await http.get(worker_url)).text)
            counted = value(after, failures, activity="load_policy") - value(
                before, failures, activity="load_policy"
            )
            sdk = samples((await http.get(f"http://127.0.0.1:{settings.temporal_metrics_port}/metrics")).text)
    finally:
        server.shutdown()
        await env.shutdown()
    failed = [
        count
        for (name, labels), count in sdk.items()
        if name.startswith("temporal_activity_execution_failed")
        and ("activity_type", "load_policy") in labels
    ]
    # Our count and the SDK's agree, attempt for attempt.
    assert counted >= 1 and failed == [counted]
    assert any(name.startswith("temporal_workflow_task_execution_latency") for name, _ in sdk)


# ------------------------------------------------------------------------------------------------ logs


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The root logger's lines, as the service writes them (core/logs.py), captured."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """The service's lines (not those of the test's own HTTP client, which logs the URLs it calls)."""
    parsed = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in parsed if line["logger"] != "httpx"]


async def test_a_request_logs_a_json_line_with_its_request_id_complaint_reference_and_staff_id(
    app_and_worker: tuple[httpx.AsyncClient, Settings], json_lines: io.StringIO, own_db: asyncpg.Pool
) -> None:
    client, settings = app_and_worker
    officer = bearer("olivia.officer", settings)
    created = await client.post("/api/complaints", json=complaint_body(), headers=officer)
    reference = created.json()["reference"]
    request_id = f"req-{uuid.uuid4().hex[:8]}"

    response = await client.get(
        f"/api/complaints/{reference}", headers=officer | {"X-Request-ID": request_id}
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == request_id

    [line] = [line for line in lines(json_lines) if line.get("request_id") == request_id]
    assert line["logger"] == "api.requests" and line["level"] == "INFO"
    assert line["reference"] == reference and line["staff_id"] == "olivia.officer"
    assert line["route"] == "/api/complaints/{reference}" and line["status"] == 200
    assert datetime.fromisoformat(line["time"]).tzinfo is not None
    # The audit trail's record of the read names the same request.
    assert (
        await own_db.fetchval(
            "SELECT count(*) FROM audit_log WHERE reference = $1 AND request_id = $2", reference, request_id
        )
        == 1
    )

    # A request id that could forge a log line is replaced; a resident's token in a query string never shows.
    forged = await client.get("/healthz", headers={"X-Request-ID": 'x"\n{"level": "ERROR"}'})
    assert forged.headers["X-Request-ID"] != 'x"\n{"level": "ERROR"}'
    token = f"secret-{uuid.uuid4().hex}"
    await client.get(f"/complaint/track?reference={reference}&token={token}")
    everything = json.dumps(lines(json_lines))
    assert token not in everything
    assert "Ada Resident" not in everything and "ada@example.org" not in everything


# ----------------------------------------------------------------------------------- deploy/ for Prometheus

# The series the service exposes (asserted above) and the SDK's workflow task failures, plus Prometheus' own.
EXPOSED = {
    "complaints_open",
    "complaints_overdue",
    "complaints_outbox_messages",
    "complaints_workflow_stuck",
    "complaints_activity_failures_total",
    "http_requests_total",
    "temporal_workflow_task_execution_failed",
    "up",
}


def _series_in(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (quoted values, matchers, ranges, groupings taken out)."""
    bare = re.sub(r'"[^"]*"|\{[^}]*\}|\[[^\]]*\]|\b(?:by|without)\s*\([^)]*\)', " ", expr)
    bare = re.sub(r"\boffset\s+\w+", " ", bare)
    return {name for name in re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()", bare) if name not in {"by"}}


def test_prometheus_scrapes_the_api_and_every_worker_and_alerts_read_series_that_exist() -> None:
    config = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    defaults = Settings(environment="test")
    assert jobs["api"]["static_configs"][0]["targets"] == [f"api:{defaults.api_port}"]
    assert jobs["worker"]["dns_sd_configs"][0]["port"] == defaults.worker_metrics_port
    assert jobs["temporal-sdk"]["dns_sd_configs"][0]["port"] == defaults.temporal_metrics_port
    assert config["rule_files"] == ["alerts.yml"]

    rules = yaml.safe_load((REPO_ROOT / "deploy" / "alerts.yml").read_text(encoding="utf-8"))["groups"][0][
        "rules"
    ]
    assert {"OverdueComplaintsRising", "OutboxMessagesFailing", "WorkflowTaskFailures"} <= {
        r["alert"] for r in rules
    }
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"} and rule["annotations"]["summary"]
        read = _series_in(rule["expr"])
        assert read and read <= EXPOSED, (rule["alert"], read - EXPOSED)


def test_log_format_text_gives_plain_lines_with_the_same_context(capsys: pytest.CaptureFixture[str]) -> None:
    touched = [
        logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx")
    ]
    saved = [(logger.handlers[:], logger.level, logger.propagate) for logger in touched]
    try:
        configure_logging("INFO", "text")
        with logging_context(
            LogContext(request_id="req-1", staff_id="olivia.officer", reference="CMP-2026-1")
        ):
            logging.getLogger("api.requests").info("GET /api/complaints/{reference}")
        logging.getLogger("worker").info("started")
    finally:
        for logger, (handlers, level, propagate) in zip(touched, saved, strict=True):
            logger.handlers[:], logger.propagate = handlers, propagate
            logger.setLevel(level)
    first, second = capsys.readouterr().err.splitlines()[-2:]
    assert first.endswith(
        "INFO api.requests [req=req-1 ref=CMP-2026-1 staff=olivia.officer] GET /api/complaints/{reference}"
    )
    assert second.endswith("INFO worker [req=- ref=- staff=-] started")
