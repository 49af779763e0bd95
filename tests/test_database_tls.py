"""PostgreSQL over TLS, as managed services require it: a server that accepts TLS connections only, with a
certificate from its own CA; DATABASE_SSLMODE and DATABASE_SSL_ROOT_CERT decide what the pool checks."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import struct
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cli.doctor import check_postgres
from core.settings import Settings, SslMode
from store.db import create_pool, database_ssl

SERVER_NAME = "db.council.example"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate_authority(folder: Path, name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    (folder / f"{name}.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key, certificate


def _server_certificate(folder: Path, ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate) -> None:
    """The database's certificate: for SERVER_NAME and 127.0.0.1 (so verify-full passes by either name)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(SERVER_NAME))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(SERVER_NAME), x509.IPAddress(IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "server.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file = folder / "server.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)  # PostgreSQL refuses a key others can read


class TlsFrontend:
    """PostgreSQL's TLS, in front of the embedded server (whose build has no TLS): answers the client's
    SSLRequest with 'S', does the TLS handshake with the database certificate, then relays the protocol to
    the server's socket. A client that does not ask for TLS is refused, as `hostnossl ... reject` does."""

    SSL_REQUEST = struct.pack("!ii", 8, 80877103)

    def __init__(self, server_socket: str, context: ssl.SSLContext) -> None:
        self.server_socket, self.context = server_socket, context
        self.handshakes = 0
        self.refused = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await reader.readexactly(8) != self.SSL_REQUEST:
                self.refused += 1
                return
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(self.context)
            self.handshakes += 1
            upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.server_socket)
            await asyncio.gather(_relay(reader, upstream_writer), _relay(upstream_reader, writer))
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # a client that gave up (e.g. it refused the certificate)
        finally:
            writer.close()


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture(scope="module")
async def tls_server(postgres_server_url: str) -> AsyncIterator[tuple[int, Path, TlsFrontend]]:
    folder = Path(tempfile.mkdtemp(prefix="complaints-pg-tls-"))
    try:
        ca_key, ca = _certificate_authority(folder, "council-ca")
        _certificate_authority(folder, "other-ca")
        _server_certificate(folder, ca_key, ca)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(folder / "server.crt", folder / "server.key")
        url = urlsplit(postgres_server_url)
        socket_dir = parse_qs(url.query)["host"][0]
        frontend = TlsFrontend(f"{socket_dir}/.s.PGSQL.{url.port or 5432}", context)
        server = await asyncio.start_server(frontend.handle, "127.0.0.1", 0)
        port = int(server.sockets[0].getsockname()[1])
        async with server:
            yield port, folder, frontend
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _settings(port: int, mode: SslMode | None, root_cert: Path | None) -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
        database_sslmode=mode,
        database_ssl_root_cert=root_cert,
    )


async def _answers(settings: Settings) -> bool:
    """The service's pool, built from the settings, gets an answer from the server."""
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url, min_size=1, max_size=1, ssl=database_ssl(settings))
    try:
        return bool(await pool.fetchval("SELECT 1") == 1)
    finally:
        await pool.close()


@pytest.mark.parametrize("mode", ["verify-full", "verify-ca", "require", None])
async def test_the_pool_connects_over_tls_trusting_the_given_ca(
    tls_server: tuple[int, Path, TlsFrontend], mode: SslMode | None
) -> None:
    port, folder, frontend = tls_server
    handshakes = frontend.handshakes
    assert await _answers(_settings(port, mode, folder / "council-ca.pem"))
    assert frontend.handshakes > handshakes


async def test_require_without_a_ca_encrypts_but_checks_nothing(
    tls_server: tuple[int, Path, TlsFrontend],
) -> None:
    port, _, frontend = tls_server
    handshakes = frontend.handshakes
    assert await _answers(_settings(port, "require", None))
    assert frontend.handshakes > handshakes


async def test_a_certificate_from_another_ca_is_refused(tls_server: tuple[int, Path, TlsFrontend]) -> None:
    port, folder, _ = tls_server
    with pytest.raises(ssl.SSLCertVerificationError):
        await _answers(_settings(port, "verify-full", folder / "other-ca.pem"))
    with pytest.raises(ssl.SSLCertVerificationError):
        await _answers(_settings(port, "verify-full", None))  # the system's CAs do not know it either


async def test_verify_full_checks_the_host_name_and_verify_ca_does_not(
    tls_server: tuple[int, Path, TlsFrontend],
) -> None:
    port, folder, _ = tls_server
    ca = folder / "council-ca.pem"
    # "localhost" is not a name in the certificate (SERVER_NAME and 127.0.0.1 are).
    wrong_name = f"postgresql://postgres@localhost:{port}/postgres"
    full = _settings(port, "verify-full", ca).model_copy(update={"database_url": wrong_name})
    with pytest.raises(ssl.SSLCertVerificationError, match="localhost"):
        await _answers(full)
    assert await _answers(full.model_copy(update={"database_sslmode": "verify-ca"}))


async def test_disable_sends_no_tls_request_and_such_a_server_refuses_it(
    tls_server: tuple[int, Path, TlsFrontend],
) -> None:
    port, _, frontend = tls_server
    refused = frontend.refused
    with pytest.raises((ConnectionError, asyncpg.PostgresError)):
        await _answers(_settings(port, "disable", None))
    assert frontend.refused == refused + 1


def test_host_name_checks_follow_libpq() -> None:
    """verify-full checks the host name, verify-ca only the chain; a CA file with a weaker mode is refused."""
    full = database_ssl(Settings(_env_file=None, database_sslmode="verify-full"))
    chain_only = database_ssl(Settings(_env_file=None, database_sslmode="verify-ca"))
    assert isinstance(full, ssl.SSLContext) and full.check_hostname
    assert isinstance(chain_only, ssl.SSLContext) and not chain_only.check_hostname
    assert database_ssl(Settings(_env_file=None)) is None, "unset: the URL's sslmode decides"
    with pytest.raises(ValueError, match="DATABASE_SSL_ROOT_CERT needs"):
        Settings(_env_file=None, database_sslmode="prefer", database_ssl_root_cert=Path("ca.pem"))


async def test_complaints_doctor_reports_the_tls_it_checked(
    tls_server: tuple[int, Path, TlsFrontend],
) -> None:
    port, folder, _ = tls_server
    checked = await check_postgres(_settings(port, "verify-full", folder / "council-ca.pem"))
    assert checked.ok and "TLS on (sslmode verify-full)" in checked.detail
    refused = await check_postgres(_settings(port, "verify-full", folder / "other-ca.pem"))
    assert not refused.ok and "SSLCertVerificationError" in refused.detail
    assert "DATABASE_SSL_ROOT_CERT" in refused.fix
