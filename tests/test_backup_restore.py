"""The README's backup and restore of PostgreSQL, run as written: pg_dump of a database holding complaints,
pg_restore into a fresh server, and every complaint, event and notification is there and usable."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from devstack.servers import postgres_tool, start_postgres
from domain.policy import Policy
from store.db import create_pool, migrate
from tests.conftest import new_database
from tests.factories import intake, open_complaint, running_worker

# The commands of the README's "Backup and restore" section.
DUMP = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
RESTORE = ["pg_restore", "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges"]

# Every column of every row (as JSON, so columns added later are compared too), in a stable order.
SNAPSHOT = {
    "complaints": "SELECT to_jsonb(t)::text FROM complaints t ORDER BY reference",
    "events": "SELECT to_jsonb(t)::text FROM complaint_events t ORDER BY workflow_id, seq",
    "notifications": "SELECT to_jsonb(t)::text FROM notifications t ORDER BY id",
    "migrations": "SELECT version FROM schema_migrations ORDER BY version",
}


def run(command: list[str], *args: str) -> None:
    tool, *options = command
    subprocess.run([postgres_tool(tool), *options, *args], check=True, capture_output=True, timeout=120)


async def snapshot(url: str) -> dict[str, list[str]]:
    connection = await asyncpg.connect(url)
    try:
        return {name: [row[0] for row in await connection.fetch(sql)] for name, sql in SNAPSHOT.items()}
    finally:
        await connection.close()


@pytest.fixture
async def fresh_server() -> AsyncIterator[str]:
    """A second, empty PostgreSQL server: where a backup is restored after losing the first."""
    folder = Path(tempfile.mkdtemp(prefix="complaints-restore-"))
    server = start_postgres(folder, keep_data=False)
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


async def test_a_dump_restored_into_a_fresh_server_has_every_complaint(
    postgres_server_url: str,
    fresh_server: str,
    temporal_env: WorkflowEnvironment,
    policies: dict[str, Policy],
    task_queue: str,
    tmp_path: Path,
) -> None:
    # A database of its own, filled by the real worker: case rows, events, outbox messages.
    source_url = await new_database(postgres_server_url, "complaints_backup")
    pool = await create_pool(source_url)
    try:
        await migrate(pool)
        now = await temporal_env.get_current_time()
        async with running_worker(temporal_env, pool, policies, task_queue):
            for policy_id in ("bexley", "westminster", "barking-dagenham", "complaint-handling-code"):
                await open_complaint(temporal_env, task_queue, intake(policy_id, now))
            async with asyncio.timeout(60):
                while await pool.fetchval("SELECT count(*) FROM complaints WHERE last_seq >= 0") < 4:
                    await asyncio.sleep(0.1)
    finally:
        await pool.close()
    before = await snapshot(source_url)
    assert len(before["complaints"]) == 4 and before["events"] and before["notifications"]

    backup = tmp_path / "complaints.dump"
    run(DUMP, f"--file={backup}", f"--dbname={source_url}")

    target_url = await new_database(fresh_server, "complaints")
    run(RESTORE, f"--dbname={target_url}", str(backup))

    assert await snapshot(target_url) == before
    restored = await create_pool(target_url)
    try:
        assert await migrate(restored) == [], "the restored schema is current: nothing to migrate"
        # The append-only audit trail keeps its guard after a restore.
        await restored.execute(
            "INSERT INTO audit_log (actor_id, actor_role, action) VALUES ('maya.manager', 'manager', 'read')"
        )
        with pytest.raises(asyncpg.PostgresError):
            await restored.execute("DELETE FROM audit_log")
    finally:
        await restored.close()
