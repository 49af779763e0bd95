"""Issue 29 (1): a resident's one-time link code exists in clear only in the message sent. A manager reading
the outbox or a subject access export finds no code to exchange, and a link that cannot be e-mailed is never
created (the resident is told how else to follow the complaint)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from api.resident.service import NO_LINK
from notifications.delivery import deliver_one
from tests.api_helpers import CapturingSender, assert_problem, bearer
from tests.test_residents import Stack, complaint, latest_link, new_email, settled, stack

__all__ = ["stack"]


async def test_a_skipped_link_leaves_no_code_for_a_manager_to_exchange(stack: Stack) -> None:
    async with stack.client() as client:
        created = await client.post("/api/public/complaints", json=complaint())
        assert created.status_code == 201, created.text
        reference = created.json()["reference"]
        await settled(stack, reference)
        notification_id = await stack.pool.fetchval(
            "SELECT id FROM notifications WHERE reference = $1 AND template = 'access_link'", reference
        )
        # E-mail turned off when the dispatcher comes to it: skipped, and no code was ever drawn.
        off = CapturingSender(channel="none")
        services = stack.app.state.services
        assert await deliver_one(stack.pool, off, services.policies, notification_id) == "skipped"
        assert off.messages == []
        export = await client.get(
            f"/api/complaints/{reference}/personal-data", headers=bearer("maya.manager", stack.settings)
        )
        assert export.status_code == 200, export.text
        text = json.dumps(export.json())
        assert "code=" not in text
        [message] = [m for m in export.json()["messages"] if m["template"] == "access_link"]
        assert message["status"] == "skipped" and "link" not in message["context"]


async def test_no_link_is_created_for_a_complainant_who_asked_for_letters(stack: Stack) -> None:
    email = new_email()
    officer = bearer("olivia.officer", stack.settings)
    async with stack.client() as client:
        logged = await client.post(
            "/api/complaints",
            headers=officer,
            json={
                "policy_id": "bexley",
                "received_at": datetime.now(UTC).isoformat(),
                "channel": "phone",
                "complainant": {"name": "Ada Resident", "email": email, "preferred_contact": "letter"},
                "service_area": "housing-repairs",
                "summary": "Damp in the bedroom.",
            },
        )
        assert logged.status_code == 201, logged.text
        reference = logged.json()["reference"]
        asked = await client.post(f"/api/public/complaints/{reference}/access-link", json={"email": email})
        assert asked.status_code == 202
        assert NO_LINK in asked.json()["message"]  # how else to follow it
        kinds = await stack.pool.fetch("SELECT kind FROM resident_tokens WHERE reference = $1", reference)
        assert [row["kind"] for row in kinds] == []
        queued = await stack.pool.fetchval(
            "SELECT count(*) FROM notifications WHERE reference = $1 AND template = 'access_link'", reference
        )
        assert queued == 0


async def test_a_code_seen_only_in_the_sent_message_is_exchanged_once(stack: Stack) -> None:
    async with stack.client() as client:
        created = await client.post("/api/public/complaints", json=complaint())
        reference = created.json()["reference"]
        before = await stack.pool.fetchval(
            "SELECT context FROM notifications WHERE reference = $1 AND template = 'access_link'", reference
        )
        assert "code" not in json.dumps(before)
        code = (await latest_link(stack.pool, reference))["code"]
        exchanged = await client.post(f"/api/public/complaints/{reference}/access-token", json={"code": code})
        assert exchanged.status_code == 201, exchanged.text
        again = await client.post(f"/api/public/complaints/{reference}/access-token", json={"code": code})
        assert_problem(again, 401)
