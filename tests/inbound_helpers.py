"""Fixtures for the inbound e-mail tests: the real API, worker, PostgreSQL and Temporal test server, the SMTP
listener on a free loopback port, and messages sent to it over real SMTP."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib
import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.services import Services
from core.settings import Settings
from devstack.servers import free_port
from domain.policy import Policy
from inbound import smtp
from inbound.receive import receive
from store.staff import DEMO_STAFF, StaffRepository
from tests.api_helpers import PASSWORD, settings_for
from tests.factories import running_worker
from tests.live_server import live_server, loopback
from tests.test_api_complaints import create

COUNCIL = "complaints@council.example"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"damp patch" * 50


@dataclass
class Inbound:
    client: httpx.AsyncClient
    settings: Settings
    services: Services
    smtp_port: int

    @property
    def pool(self) -> asyncpg.Pool:
        return self.services.pool

    async def send(self, message: EmailMessage, *, to: list[str] | None = None) -> None:
        """Hand the message to the listener over SMTP, as the council's relay does."""
        await aiosmtplib.send(
            message,
            hostname="127.0.0.1",
            port=self.smtp_port,
            recipients=to or [str(message["To"])],
            timeout=30,
        )


def mail(
    *,
    sender: str = "Ada Resident <ada@example.org>",
    to: str = COUNCIL,
    subject: str = "Re: Your complaint",
    text: str = "Here is a photo of the damp.",
    html: str | None = None,
    files: list[tuple[str, str, bytes]] | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id or make_msgid(domain="example.org")
    for name, value in (headers or {}).items():
        message[name] = value
    if html is not None and not text:  # an HTML-only message
        message.set_content(html, subtype="html")
    else:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    for filename, content_type, content in files or []:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


@pytest.fixture
async def inbound(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[Inbound]:
    """The API and a worker over the real pool and Temporal, and the SMTP listener on a free port."""
    settings = settings_for(task_queue).model_copy(
        update={"inbound_messages_per_sender_per_hour": 6, "inbound_max_attachments": 3}
    )
    repository = StaffRepository(pool)
    for user in DEMO_STAFF:
        await repository.upsert(user=user, password=PASSWORD)
    services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
    app = create_app(settings, services)
    port = free_port()

    async def take(raw: bytes, recipients: list[str]) -> None:
        await receive(services, raw, recipients=recipients, source="smtp")

    async with running_worker(temporal_env, pool, policies, task_queue):
        server = await smtp.start_listener(settings, take, port=port)
        try:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Inbound(client, settings, services, port)
        finally:
            server.close()
            await server.wait_closed()


@pytest.fixture
async def console(inbound: Inbound) -> AsyncIterator[httpx.AsyncClient]:
    """The inbound stack's app behind uvicorn (plain HTTP, so the session cookie is not Secure)."""
    # Development: the demo users' sign-in form exists only there (issue 29).
    settings = inbound.settings.model_copy(update={"cookie_secure": False, "environment": "development"})
    services = dataclasses.replace(inbound.services, settings=settings)
    async with (
        live_server(loopback(create_app(settings, services))) as base,
        httpx.AsyncClient(base_url=base, timeout=60) as client,
    ):
        yield client


async def complaint(stack: Inbound) -> tuple[str, str]:
    """A complaint logged by an officer for a resident of their own (each test's sender is counted alone
    against the hourly limit); its reference and the resident's address."""
    address = f"ada-{uuid.uuid4().hex[:8]}@example.org"
    created = await create(
        stack.client, stack.settings, complainant={"name": "Ada Resident", "email": address}
    )
    return str(created["reference"]), address


async def eventually(check: Any, what: str) -> Any:
    """A signal is applied by the worker after it is sent: wait (briefly) until `check()` is truthy."""
    for _ in range(300):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def inbound_row(pool: asyncpg.Pool, message: EmailMessage) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT * FROM inbound_messages WHERE message_id = $1", str(message["Message-ID"])
    )
    assert row is not None, "the message was not stored"
    return row
