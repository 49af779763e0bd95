"""Fixtures and helpers for API tests: the real app on the real database and Temporal test server."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.auth import issue_dev_token
from api.main import create_app
from core.services import Services
from core.settings import Settings
from domain.policy import Policy
from domain.policy_files import load_policies
from notifications.channels import OutgoingMessage
from notifications.delivery import deliver_one
from store.staff import DEMO_STAFF, StaffRepository, StaffUser
from tests.factories import running_worker

STAFF = {user.id: user for user in DEMO_STAFF}
_POLICIES: dict[str, Policy] = {}
PASSWORD = "correct horse"


def settings_for(task_queue: str) -> Settings:
    return Settings(
        environment="test",
        database_url="postgresql://unused-in-tests",
        temporal_address="unused-in-tests:7233",
        task_queue=task_queue,
    )


def bearer(user_id: str, settings: Settings) -> dict[str, str]:
    user: StaffUser = STAFF[user_id]
    return {"Authorization": f"Bearer {issue_dev_token(user, settings)}"}


@pytest.fixture
async def api(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """The API app over the real pool and Temporal, with a worker polling the same task queue."""
    settings = settings_for(task_queue)
    repository = StaffRepository(pool)
    for user in DEMO_STAFF:
        await repository.upsert(user=user, password=PASSWORD)
    services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
    app = create_app(settings, services)
    async with running_worker(temporal_env, pool, policies, task_queue):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, settings


def complaint_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "policy_id": "bexley",
        "received_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "channel": "email",
        "complainant": {"name": "Ada Resident", "email": "ada@example.org"},
        "service_area": "housing-repairs",
        "summary": "Damp in the bedroom reported three times and not fixed.",
        "desired_outcome": "Fix the damp.",
    }
    body.update(overrides)
    return body


def assert_problem(response: httpx.Response, status: int, detail_contains: str = "") -> dict[str, Any]:
    """The documented error shape: RFC 9457 problem details with the status and a readable detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["title"]
    assert detail_contains in (problem.get("detail") or ""), problem
    return problem


@dataclass
class CapturingSender:
    """A mail channel that keeps what it is given (the message is the only place a link's code exists)."""

    channel: str = "smtp"
    messages: list[OutgoingMessage] = field(default_factory=list)

    async def send(self, message: OutgoingMessage) -> str:
        self.messages.append(message)
        return f"captured-{len(self.messages)}"


async def send_latest_link(pool: asyncpg.Pool, reference: str) -> str:
    """Send the complaint's last queued access-link e-mail (as the outbox dispatcher would) and return the
    link it carried: its code is drawn when it is sent, so the outbox never holds one."""
    if not _POLICIES:
        _POLICIES.update(load_policies(Path(__file__).resolve().parent.parent / "policies"))
    notification_id = await pool.fetchval(
        "SELECT id FROM notifications WHERE reference = $1 AND template = 'access_link'"
        " ORDER BY created_at DESC, id DESC LIMIT 1",
        reference,
    )
    assert notification_id is not None, f"no access link queued for {reference}"
    sender = CapturingSender()
    assert await deliver_one(pool, sender, _POLICIES, notification_id) == "sent"
    [message] = sender.messages
    found = re.search(r"https?://\S+/complaint/track\?\S+", message.text)
    assert found is not None, message.text
    return found.group(0)


@contextlib.contextmanager
def in_development(client: httpx.AsyncClient) -> Iterator[None]:
    """The client's app with ENVIRONMENT=development for the block (the dev token endpoint answers)."""
    services: Services = client._transport.app.state.services  # type: ignore[attr-defined]
    original = services.settings
    services.settings = original.model_copy(update={"environment": "development"})
    try:
        yield
    finally:
        services.settings = original
