"""Issue 29 (review): an uploaded file and its audit row are written in one transaction. PostgreSQL itself
refuses one of the two inserts (a trigger for this test's complaint only): the other is not kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx

from core.settings import Settings
from tests.api_helpers import api, bearer
from tests.test_api_complaints import create
from tests.test_attachments import PHOTO

__all__ = ["api"]


@asynccontextmanager
async def refusing(pool: asyncpg.Pool, table: str, reference: str) -> AsyncIterator[None]:
    """Inserts into `table` for `reference` fail, as a full disk or a broken constraint would."""
    name = f"refuse_{table}"
    await pool.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS"
        " $$BEGIN RAISE EXCEPTION 'refused for the test'; END$$"
    )
    await pool.execute(
        f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW"
        f" WHEN (NEW.reference = '{reference}') EXECUTE FUNCTION {name}()"
    )
    try:
        yield
    finally:
        await pool.execute(f"DROP TRIGGER {name} ON {table}")
        await pool.execute(f"DROP FUNCTION {name}()")


async def _counts(pool: asyncpg.Pool, reference: str) -> tuple[int, int]:
    files = await pool.fetchval("SELECT count(*) FROM attachments WHERE reference = $1", reference)
    audited = await pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE reference = $1 AND action = 'attach'", reference
    )
    return int(files), int(audited)


async def test_a_failed_audit_row_leaves_no_file_and_a_failed_file_no_audit_row(
    api: tuple[httpx.AsyncClient, Settings], pool: asyncpg.Pool
) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]

    async def upload() -> httpx.Response:
        return await client.post(
            f"/api/complaints/{reference}/attachments",
            files={"file": ("bedroom.png", PHOTO, "image/png")},
            headers=bearer("olivia.officer", settings),
        )

    async with refusing(pool, "audit_log", reference):
        assert (await upload()).status_code >= 500
    assert await _counts(pool, reference) == (0, 0)
    async with refusing(pool, "attachments", reference):
        assert (await upload()).status_code >= 500
    assert await _counts(pool, reference) == (0, 0)
    assert (await upload()).status_code == 201
    assert await _counts(pool, reference) == (1, 1)
