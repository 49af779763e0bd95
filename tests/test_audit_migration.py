"""Migration 120 rewrites audit rows written before redaction: their free text is replaced by its length."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import asyncpg
import pytest

from store.db import MIGRATIONS_DIR, create_pool, migrate
from tests.conftest import new_database

LEGACY_CREATE = {
    "policy_id": "bexley",
    "channel": "email",
    "complainant": {"name": "Ada Resident", "email": "ada@example.org", "phone": "07700 900999"},
    "summary": "Damp in the bedroom.",
    "staff_complained_about": ["ian.investigator"],
}
LEGACY_ACTION = {"status": "escalation_requested", "stage": 1, "request": {"reasons": "The damp is back."}}


async def test_legacy_audit_rows_lose_their_free_text_and_keep_their_codes(
    postgres_server_url: str, tmp_path: Path
) -> None:
    before_120 = tmp_path / "migrations"
    before_120.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if path.name < "120_":
            shutil.copy(path, before_120 / path.name)
    pool = await create_pool(await new_database(postgres_server_url, "audit_migration"), max_size=2)
    try:
        await migrate(pool, before_120)
        for action, after in (("create", LEGACY_CREATE), ("request_escalation", LEGACY_ACTION)):
            await pool.execute(
                "INSERT INTO audit_log (actor_id, actor_role, action, reference, after)"
                " VALUES ('olivia.officer', 'complaints_officer', $1, 'CMP-2026-000001', $2)",
                action,
                after,
            )
        assert "120_personal_data" in await migrate(pool)
        rows = await pool.fetch("SELECT action, after FROM audit_log ORDER BY id")
        text = json.dumps([row["after"] for row in rows])
        for personal in ("Ada Resident", "ada@example.org", "07700", "Damp in the bedroom", "damp is back"):
            assert personal not in text
        create, escalation = rows[0]["after"], rows[1]["after"]
        assert (create["policy_id"], create["channel"]) == ("bexley", "email")
        assert create["staff_complained_about"] == ["ian.investigator"]
        assert create["complainant"]["name"] == {"chars": len("Ada Resident")}
        assert escalation["status"] == "escalation_requested" and escalation["stage"] == 1
        assert escalation["request"]["reasons"] == {"chars": len("The damp is back.")}
        # And the trail is append-only again afterwards.
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await pool.execute("UPDATE audit_log SET actor_id = 'someone-else'")
    finally:
        await pool.close()
