"""The service as a client sees it: the HTTP API on loopback (token check, audit, read-back) against the raw
engine in the same run, and what the README walk-through leaves in Temporal's history.

The API runs in this process under uvicorn on a free loopback port, over the same pool, Temporal client and
worker as `bench/engine.py`; requests go over TCP with httpx, as `curl` would send them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from temporalio.client import Client

from api.auth import issue_dev_token
from api.main import create_app
from bench.engine import AREAS, EngineResult, RawSide
from bench.measure import Run, alternating, run_concurrently, sampled
from bench.noop import Landed
from core.services import Services
from core.settings import Settings
from core.temporal import workflow_id
from domain.policy import Policy
from store.staff import DEMO_STAFF, StaffRepository

USERS = {user.id: user for user in DEMO_STAFF}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serve_api(
    pool: asyncpg.Pool, client: Client, task_queue: str, policies: dict[str, Policy]
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """The real app under uvicorn on loopback, and an HTTP client for it."""
    settings = Settings(
        environment="test", database_url="postgresql://bench", temporal_address="bench", task_queue=task_queue
    )
    for user in DEMO_STAFF:
        await StaffRepository(pool).upsert(user=user, password="bench")
    app = create_app(settings, Services(settings=settings, pool=pool, temporal=client, policies=policies))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            timeout_keep_alive=75,  # as the image runs it (Dockerfile): no keep-alive race with the client
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=120) as http:
            yield http, settings
    finally:
        server.should_exit = True
        await serving


def _headers(user_id: str, settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(USERS[user_id], settings)}"}


def _body(index: int, policy_id: str) -> dict[str, Any]:
    return {
        "policy_id": policy_id,
        "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "channel": "email",
        "complainant": {"name": f"Bench Resident {index}", "email": f"resident{index}@example.org"},
        "service_area": AREAS[index % len(AREAS)],
        "summary": "Damp in the bedroom reported three times and not fixed.",
        "desired_outcome": "Fix the damp.",
    }


@dataclass
class HttpResult(EngineResult):
    def pair(self, service: Run, raw: Run) -> dict[str, Any]:
        p99 = service.percentile_ms(0.99) / raw.percentile_ms(0.99) if raw.latencies_ms else 0.0
        return super().pair(service, raw) | {"p99_ratio": round(p99, 2)}


async def measure_http(
    *,
    http: httpx.AsyncClient,
    settings: Settings,
    client: Client,
    landed: Landed,
    policies: dict[str, Policy],
    complaints: int,
    concurrency: int,
    rounds: int = 4,
    py_spy: str | None = None,
    profile: Path | None = None,
) -> HttpResult:
    """POST /api/complaints and POST .../acknowledge, each answered with the complaint read back from the
    read model, against a raw workflow start (+ no-op activity) and a raw no-op update."""
    officer = _headers("olivia.officer", settings)
    names = sorted(policies)
    references: list[str] = []

    async def create(index: int) -> None:
        response = await http.post(
            "/api/complaints", json=_body(index, names[index % len(names)]), headers=officer
        )
        if response.status_code != 201:
            raise RuntimeError(f"create answered {response.status_code}: {response.text}")
        references.append(response.json()["reference"])

    async def acknowledge(reference: str) -> None:
        response = await http.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=officer)
        if response.status_code != 200:
            raise RuntimeError(f"acknowledge answered {response.status_code}: {response.text}")

    raw = RawSide(client, landed)
    await run_concurrently(range(-10, 0), concurrency, raw.open)
    await run_concurrently(range(-10, 0), concurrency, create)
    await run_concurrently(list(raw.ids), concurrency, raw.poke)
    await run_concurrently(list(references), concurrency, acknowledge)
    raw.finished, raw.ids = raw.ids, []
    references.clear()
    opened = range(complaints)
    raw_intake, service_intake = await alternating(rounds, concurrency, (opened, raw.open), (opened, create))
    with sampled(py_spy, profile):
        raw_actions, service_actions = await alternating(
            rounds, concurrency, (raw.ids, raw.poke), (references, acknowledge)
        )
    result = HttpResult(
        service_intake=service_intake,
        raw_intake=raw_intake,
        service_actions=service_actions,
        raw_actions=raw_actions,
    )
    await raw.finish()
    return result


async def walkthrough_history(http: httpx.AsyncClient, settings: Settings, client: Client) -> dict[str, Any]:
    """The README walk-through through the API, then what its workflow history holds: events and bytes,
    and the bytes each further action adds (constant when nothing grows with the complaint's age)."""
    officer, investigator, reviewer = (
        _headers(user, settings) for user in ("olivia.officer", "ian.investigator", "rita.reviewer")
    )
    body = _body(0, "bexley") | {"received_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    created = await http.post("/api/complaints", json=body, headers=officer)
    if created.status_code != 201:
        raise RuntimeError(f"the walk-through's complaint answered {created.status_code}: {created.text}")
    reference = created.json()["reference"]

    async def act(headers: dict[str, str], action: str, payload: dict[str, Any]) -> None:
        response = await http.post(f"/api/complaints/{reference}/{action}", json=payload, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{action} answered {response.status_code}: {response.text}")

    due = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    await act(officer, "acknowledge", {})
    await act(officer, "assign", {"assignee": "ian.investigator"})
    await act(
        investigator,
        "respond",
        {
            "outcome": "partially_upheld",
            "findings": "The repair was booked late.",
            "remedies": [{"kind": "apology", "description": "We are sorry for the delay."}],
            "actions": [
                {"id": "fix-damp", "description": "Treat the damp", "owner": "repairs", "due_on": due}
            ],
        },
    )
    await act(
        officer, "request-escalation", {"reasons": "The damp is back.", "outcome_wanted": "A full survey."}
    )
    await act(reviewer, "acknowledge", {})
    await act(reviewer, "respond", {"outcome": "upheld", "findings": "A survey was needed."})
    handle = client.get_workflow_handle(workflow_id(reference))

    async def size() -> tuple[int, int]:
        info = (await handle.describe()).raw_description.workflow_execution_info
        return info.history_length, info.history_size_bytes

    events, size_bytes = await size()
    per_action: list[int] = []
    before = size_bytes
    for number in range(10):
        await act(officer, "add-note", {"text": f"Called the resident ({number})."})
        after = (await size())[1]
        per_action.append(after - before)
        before = after
    return {
        "reference": reference,
        "actions": 7,
        "history_events": events,
        "history_bytes": size_bytes,
        "bytes_per_further_note": per_action,
    }
