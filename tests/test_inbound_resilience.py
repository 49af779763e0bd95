"""Inbound e-mail is never lost and never kept too long: a reply stored while Temporal is unreachable
reaches its complaint once the sweep runs (its evidence not stored twice); the listener requires STARTTLS
when it has a certificate; messages are destroyed with their complaint's personal data, and the others
after their own retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.client import Client

import inbound.__main__ as inbound_main
from core.services import Services
from core.settings import get_settings, inbound_production_problems
from core.temporal import data_converter
from devstack.servers import free_port
from inbound import smtp
from inbound.receive import receive, sweep
from inbound.store import InboundRepository, purge_unlinked
from store.retention import RetentionRepository
from tests.api_helpers import bearer
from tests.inbound_helpers import PHOTO, Inbound, complaint, eventually, inbound, inbound_row, mail

__all__ = ["inbound"]  # the fixture, imported so pytest finds it here


async def _information(stack: Inbound, reference: str) -> list[str]:
    rows = await stack.pool.fetch(
        "SELECT actor_id FROM complaint_events WHERE reference = $1 AND action = 'add_information'", reference
    )
    return [row["actor_id"] for row in rows]


async def test_a_reply_stored_while_temporal_is_down_reaches_its_complaint_after_the_sweep(
    inbound: Inbound,
) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    unreachable = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=data_converter())
    down = Services(
        settings=stack.settings, pool=stack.pool, temporal=unreachable, policies=stack.services.policies
    )
    reply = mail(
        sender=address, to=f"complaints+{reference}@council.example", files=[("p.png", "image/png", PHOTO)]
    )

    assert await receive(down, reply.as_bytes(), recipients=[], source="smtp") is not None
    row = await inbound_row(stack.pool, reply)
    assert (row["status"], row["reference"]) == ("routing", reference)  # stored, evidence kept, signal owed
    assert await _information(stack, reference) == []

    assert await sweep(stack.services, older_than=timedelta(0)) >= 1
    assert await eventually(lambda: _information(stack, reference), "the swept reply arrives") == [
        "inbound-email"
    ]
    assert (await inbound_row(stack.pool, reply))["status"] == "routed"
    files = await stack.client.get(
        f"/api/complaints/{reference}/attachments", headers=bearer("olivia.officer", stack.settings)
    )
    assert len(files.json()) == 1


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


async def test_with_a_certificate_the_listener_requires_starttls(inbound: Inbound, tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    settings = inbound.settings.model_copy(
        update={"inbound_smtp_tls_cert": cert, "inbound_smtp_tls_key": key}
    )
    taken: list[bytes] = []

    async def take(raw: bytes, recipients: list[str]) -> None:
        taken.append(raw)

    port = free_port()
    server = await smtp.start_listener(settings, take, port=port)
    try:
        with pytest.raises(aiosmtplib.SMTPException):
            await aiosmtplib.send(mail(), hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
        assert taken == []
        trusting = ssl.create_default_context(cafile=str(cert))
        trusting.check_hostname = False
        await aiosmtplib.send(
            mail(), hostname="127.0.0.1", port=port, start_tls=True, tls_context=trusting, timeout=10
        )
        assert len(taken) == 1
    finally:
        server.close()
        await server.wait_closed()


async def test_messages_are_destroyed_with_their_complaint_and_the_others_after_their_retention(
    inbound: Inbound,
) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    reply = mail(sender=address, to=f"complaints+{reference}@council.example")
    await stack.send(reply)
    await eventually(lambda: _information(stack, reference), "the reply arrives")
    auto = mail(sender=address, subject="Automatic reply: away", headers={"Auto-Submitted": "auto-replied"})
    stranger = mail(sender="eve@example.net", subject="Waiting for an officer")
    await stack.send(auto)
    await stack.send(stranger)

    # The retention purge destroys the complaint's personal data: the e-mails that reached it go with it.
    assert await RetentionRepository(stack.pool).destroy_personal_data(
        reference=reference, at=datetime.now(UTC), retention_years=6
    )
    assert await InboundRepository(stack.pool).by_message_id(str(reply["Message-ID"])) is None
    # Messages of no complaint go after INBOUND_RETENTION_DAYS: a decided one from its decision, one nobody
    # decided from its arrival; within it both stay.
    await purge_unlinked(stack.pool, decided_before=datetime.now(UTC) - timedelta(days=1))
    assert await InboundRepository(stack.pool).by_message_id(str(auto["Message-ID"])) is not None
    waiting = await InboundRepository(stack.pool).by_message_id(str(stranger["Message-ID"]))
    assert waiting is not None and waiting.status == "triage"
    assert await purge_unlinked(stack.pool, decided_before=datetime.now(UTC) + timedelta(minutes=1)) >= 2
    assert await InboundRepository(stack.pool).by_message_id(str(auto["Message-ID"])) is None
    assert await InboundRepository(stack.pool).by_message_id(str(stranger["Message-ID"])) is None


def test_production_refuses_an_smtp_listener_open_to_any_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    production = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": "postgresql://app:pw@127.0.0.1:1/app",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
        "OIDC_ISSUER": "https://login.council.example/",
        "OIDC_AUDIENCE": "complaints-api",
        "OIDC_JWKS_URL": "https://login.council.example/jwks.json",
        "PAYLOAD_KEYS": "k1:" + "A" * 43 + "=",
        "AUDIT_HMAC_KEY": "a-real-audit-key-0123456789",
        "JWT_SECRET": "a-real-secret-for-production-use-only",
        "INBOUND_MODE": "smtp",
        "INBOUND_SMTP_ALLOWED_RELAYS": "",
    }
    for name, value in production.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit, match="INBOUND_SMTP_ALLOWED_RELAYS"):
            asyncio.run(inbound_main.run())  # refused before any connection is tried
        monkeypatch.setenv("INBOUND_SMTP_ALLOWED_RELAYS", "10.0.0.5")
        get_settings.cache_clear()
        assert inbound_production_problems(get_settings()) == {}
    finally:
        get_settings.cache_clear()
