"""Inbound e-mail read over real IMAP: a shared mailbox on a real IMAP server (pymap, in memory, on a free
loopback port) is polled; a reply reaches its complaint with its attachment, a stranger's message waits in
triage, a message already read is not read again, and a copy with the same Message-ID adds nothing."""

from __future__ import annotations

import asyncio
import email.header
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage

import aioimaplib
import asyncpg
import pytest
from pydantic import SecretStr

from core.settings import Settings
from devstack.servers import free_port, stop_process_group
from inbound import imap
from inbound.receive import receive
from inbound.store import MailboxCursors
from tests.api_helpers import bearer
from tests.inbound_helpers import PHOTO, Inbound, complaint, eventually, inbound, inbound_row, mail

__all__ = ["inbound"]  # the fixture, imported so pytest finds it here

USER, PASSWORD = "complaints", "mailbox-password"


@pytest.fixture
def imap_port() -> Iterator[int]:
    """pymap's in-memory IMAP server, started for the test on a free loopback port, stopped after."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from pymap.main import main; main()", "--host", "127.0.0.1",
         "--port", str(port), "--no-tls", "dict", "--demo-user", USER, "--demo-password", PASSWORD],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield port
    finally:
        stop_process_group(server)


async def _connect(port: int) -> aioimaplib.IMAP4:
    for _ in range(100):  # the server takes a moment to listen
        try:
            client = aioimaplib.IMAP4(host="127.0.0.1", port=port, timeout=10)
            await client.wait_hello_from_server()
            break
        except OSError:
            await asyncio.sleep(0.1)
    else:
        raise AssertionError("the IMAP server never listened")
    assert (await client.login(USER, PASSWORD)).result == "OK"
    return client


async def _deliver(port: int, *messages: EmailMessage) -> None:
    """Mail arriving in the shared mailbox (as the council's mail service puts it there)."""
    client = await _connect(port)
    for message in messages:
        assert (await client.append(message.as_bytes(), mailbox="INBOX")).result == "OK"
    await client.logout()


def _settings(stack: Inbound, imap_port: int) -> Settings:
    return stack.settings.model_copy(
        update={
            "inbound_mode": "imap",
            "inbound_imap_host": "127.0.0.1",
            "inbound_imap_port": imap_port,
            "inbound_imap_tls": False,
            "inbound_imap_username": USER,
            "inbound_imap_password": SecretStr(PASSWORD),
        }
    )


async def test_polling_a_shared_mailbox_routes_replies_and_triages_the_rest_once(
    inbound: Inbound, imap_port: int
) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    reply = mail(
        sender=f"Ada Resident <{address}>",
        to=f"Complaints <complaints+{reference}@council.example>",
        text="The photo of the ceiling is attached.\n\nOn Tuesday, Complaints wrote:\n> Thank you.",
        files=[("ceiling.png", "image/png", PHOTO)],
    )
    stranger = mail(sender="Dev Tenant <dev@example.net>", subject="Noise", text="My neighbour is loud.")
    await _deliver(imap_port, reply, stranger)
    settings = _settings(stack, imap_port)
    cursors = MailboxCursors(stack.pool)

    async def take(raw: bytes, recipients: list[str], arrived_at: datetime | None) -> None:
        await receive(stack.services, raw, recipients=recipients, source="imap", arrived_at=arrived_at)

    assert await imap.poll_once(settings, take, cursors) == 2
    routed = await inbound_row(stack.pool, reply)
    assert (routed["status"], routed["reference"], routed["source"]) == ("routed", reference, "imap")

    async def information() -> list[str]:
        rows = await stack.pool.fetch(
            "SELECT actor_id FROM complaint_events WHERE reference = $1 AND action = 'add_information'",
            reference,
        )
        return [row["actor_id"] for row in rows]

    assert await eventually(information, "the reply reaches the complaint") == ["inbound-email"]
    listed = await stack.client.get(
        f"/api/complaints/{reference}/attachments", headers=bearer("olivia.officer", stack.settings)
    )
    assert [item["filename"] for item in listed.json()] == ["ceiling.png"]
    waiting = await inbound_row(stack.pool, stranger)
    assert (waiting["status"], waiting["sender"], waiting["text"]) == (
        "triage",
        "dev@example.net",
        "My neighbour is loud.",
    )

    # The next poll reads nothing: both were marked seen once stored.
    assert await imap.poll_once(settings, take, cursors) == 0
    # A copy of the reply (re-filed, or a second mailbox rule) is read, and adds nothing.
    await _deliver(imap_port, reply)
    assert await imap.poll_once(settings, take, cursors) == 1
    copies = await stack.pool.fetchval(
        "SELECT count(*) FROM inbound_messages WHERE message_id = $1", str(reply["Message-ID"])
    )
    assert copies == 1
    assert await information() == ["inbound-email"]


async def test_a_mailbox_that_refuses_the_sign_in_reads_nothing(imap_port: int, pool: asyncpg.Pool) -> None:
    await (await _connect(imap_port)).logout()  # the server is up
    settings = Settings(
        environment="test",
        inbound_imap_host="127.0.0.1",
        inbound_imap_port=imap_port,
        inbound_imap_tls=False,
        inbound_imap_username=USER,
        inbound_imap_password=SecretStr("wrong"),
    )
    taken: list[bytes] = []
    cursors = MailboxCursors(pool)

    async def take(raw: bytes, recipients: list[str], arrived_at: datetime | None) -> None:
        taken.append(raw)

    with pytest.raises(imap.MailboxError, match="LOGIN refused"):
        await imap.poll_once(settings, take, cursors)
    assert taken == []


def _long_message_id() -> bytes:
    """A Message-ID of encoded words: ~1,000 CJK characters once decoded, ~3,000 bytes in UTF-8."""
    word = email.header.Header("漢" * 10, "utf-8").encode()
    return " ".join([word] * 100).encode()


async def test_one_message_that_cannot_be_stored_does_not_stop_the_poll(
    inbound: Inbound, imap_port: int
) -> None:
    stack = inbound
    crafted = mail(subject="Long id")
    del crafted["Message-ID"]
    raw_crafted = crafted.as_bytes().replace(
        b"Subject:", b"Message-ID: " + _long_message_id() + b"\r\nSubject:", 1
    )
    poison = mail(subject="Poison", text="the receiver fails on this one")
    after = mail(subject="After", text="read after the others")
    client = await _connect(imap_port)
    for raw in (raw_crafted, poison.as_bytes(), after.as_bytes()):
        assert (await client.append(raw, mailbox="INBOX")).result == "OK"
    await client.logout()
    settings = _settings(stack, imap_port)
    cursors = MailboxCursors(stack.pool)

    async def take(raw: bytes, recipients: list[str], arrived_at: datetime | None) -> None:
        if b"Subject: Poison" in raw:
            raise RuntimeError("cannot store this one")
        await receive(stack.services, raw, recipients=recipients, source="imap")

    assert await imap.poll_once(settings, take, cursors) == 2
    stored = await stack.pool.fetch(
        "SELECT subject FROM inbound_messages WHERE subject = ANY($1::text[])", ["Long id", "Poison", "After"]
    )
    assert sorted(row["subject"] for row in stored) == ["After", "Long id"]
    # The crafted message is kept once: read again (marked unseen by someone), it adds nothing.
    assert await receive(stack.services, raw_crafted, recipients=[], source="smtp") is None


async def test_a_message_someone_opened_first_is_read_as_received_when_the_mailbox_got_it(
    inbound: Inbound, imap_port: int
) -> None:
    stack = inbound
    opened = mail(subject="Opened by a colleague", text="Nobody fixed the lift.")
    client = await _connect(imap_port)
    answer = await client.append(
        opened.as_bytes(), mailbox="INBOX", flags="(\\Seen)", date=datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    )
    assert answer.result == "OK"
    await client.logout()
    settings = _settings(stack, imap_port)
    cursors = MailboxCursors(stack.pool)

    async def take(raw: bytes, recipients: list[str], arrived_at: datetime | None) -> None:
        await receive(stack.services, raw, recipients=recipients, source="imap", arrived_at=arrived_at)

    assert await imap.poll_once(settings, take, cursors) == 1
    row = await inbound_row(stack.pool, opened)
    # Received when the mailbox received it (the complaint's date), not when the service polled.
    assert (row["status"], row["received_at"]) == ("triage", datetime(2026, 11, 30, 9, 15, tzinfo=UTC))
    assert await imap.poll_once(settings, take, cursors) == 0  # read once
