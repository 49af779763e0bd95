"""The connection pool (over TLS where the database asks for it) and the numbered SQL migrations, applied at
start-up."""

from __future__ import annotations

import json
import logging
import ssl
from pathlib import Path

import asyncpg

from core.settings import CODE_ROOT, Settings, SslMode

MIGRATIONS_DIR = CODE_ROOT / "migrations"  # shipped as package data: beside the code once installed
# Any constant works: it only has to be the same in every process that migrates this database.
_MIGRATION_LOCK = 4_171_996

log = logging.getLogger(__name__)

Pool = asyncpg.Pool


async def _init_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def database_ssl(settings: Settings) -> ssl.SSLContext | SslMode | None:
    """TLS to PostgreSQL from DATABASE_SSLMODE and DATABASE_SSL_ROOT_CERT, with libpq's meaning of sslmode.

    None leaves it to the URL (`?sslmode=...&sslrootcert=...` work too). The verifying modes get a context
    that trusts the given CA file, or the system's CAs without one (the managed services' public chains);
    verify-ca checks the chain only, verify-full also the host name.
    """
    mode, root_cert = settings.database_sslmode, settings.database_ssl_root_cert
    if root_cert is not None and mode is None:
        mode = "verify-full"
    elif root_cert is not None and mode == "require":
        mode = "verify-ca"  # as libpq: with a CA file, require checks the chain
    if mode in {"verify-ca", "verify-full"}:
        context = ssl.create_default_context(cafile=str(root_cert) if root_cert is not None else None)
        context.check_hostname = mode == "verify-full"
        return context
    return mode


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, ssl: ssl.SSLContext | SslMode | None = None
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, ssl=ssl
    )
    assert pool is not None
    return pool


async def migrate(pool: asyncpg.Pool, folder: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every `NNN_*.sql` file not yet applied, in order, each in its own transaction.

    An advisory lock makes concurrent starts (API and worker together) safe.
    """
    applied_now: list[str] = []
    async with pool.acquire() as connection:
        await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")}
            for path in sorted(folder.glob("[0-9][0-9][0-9]_*.sql")):
                if path.stem in done:
                    continue
                async with connection.transaction():
                    await connection.execute(path.read_text(encoding="utf-8"))
                    await connection.execute("INSERT INTO schema_migrations (version) VALUES ($1)", path.stem)
                applied_now.append(path.stem)
                log.info("applied migration %s", path.stem)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now
