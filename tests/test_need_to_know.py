"""Need-to-know on the staff API: service areas (a setting or the identity provider's claim) limit lists and
reads, every list request is audited without personal data, and a declared conflict of interest locks the
declarer out of the case and tells a manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from api.auth import DEV_ISSUER
from core.settings import Settings
from store.access import delete_conflicts
from tests.api_helpers import STAFF, assert_problem, bearer, complaint_body
from tests.test_residents import Stack, stack

__all__ = ["stack"]  # the fixture, imported so pytest finds it here


async def log_complaint(client: httpx.AsyncClient, settings: Settings, **overrides: Any) -> str:
    response = await client.post(
        "/api/complaints", json=complaint_body(**overrides), headers=bearer("olivia.officer", settings)
    )
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


def token_with_claims(user_id: str, settings: Settings, **claims: Any) -> dict[str, str]:
    user = STAFF[user_id]
    now = datetime.now(UTC)
    payload = {"sub": user.id, "name": user.name, "role": user.role.value, "iss": DEV_ISSUER, "iat": now}
    token = jwt.encode(payload | {"exp": now + timedelta(hours=1)} | claims, settings.jwt_secret, "HS256")
    return {"Authorization": f"Bearer {token}"}


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> set[str]:
    response = await client.get("/api/complaints", params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return {item["reference"] for item in response.json()["items"]}


async def test_staff_limited_to_service_areas_see_and_list_only_those(stack: Stack) -> None:
    app = stack.app_with(staff_service_areas={"ian.investigator": ["waste"]})
    settings: Settings = app.state.services.settings
    async with stack.client(app=app) as client:
        housing = await log_complaint(client, settings, service_area="housing-repairs")
        waste = await log_complaint(client, settings, service_area="waste")
        ian = bearer("ian.investigator", settings)
        assert (await client.get(f"/api/complaints/{waste}", headers=ian)).status_code == 200
        assert_problem(await client.get(f"/api/complaints/{housing}", headers=ian), 404, housing)
        assert_problem(
            await client.post(
                f"/api/complaints/{housing}/attachments",
                files={"file": ("a.txt", b"a", "text/plain")},
                headers=ian,
            ),
            404,
        )
        mine = await listed(client, ian)
        assert waste in mine and housing not in mine
        # Asking for another area by filter shows nothing either.
        assert await listed(client, ian, service_area="housing-repairs") == set()
        # Staff not limited see both.
        assert {housing, waste} <= await listed(client, bearer("ines.investigator", settings))

        # The identity provider's claim limits someone the setting does not name.
        claimed = token_with_claims("ines.investigator", settings, service_areas=["housing-repairs"])
        assert_problem(await client.get(f"/api/complaints/{waste}", headers=claimed), 404)
        assert (await client.get(f"/api/complaints/{housing}", headers=claimed)).status_code == 200
        assert housing in await listed(client, claimed) and waste not in await listed(client, claimed)
        # The setting wins over the claim.
        both = token_with_claims("ian.investigator", settings, service_areas=["housing-repairs"])
        assert_problem(await client.get(f"/api/complaints/{housing}", headers=both), 404)


async def test_every_list_request_is_audited_with_its_filters_and_no_personal_data(stack: Stack) -> None:
    app = stack.app_with()
    settings: Settings = app.state.services.settings
    async with stack.client(app=app) as client:
        await log_complaint(client, settings)
        before = await stack.pool.fetchval("SELECT max(id) FROM audit_log")
        headers = bearer("rita.reviewer", settings) | {"X-Request-Id": "list-audit-test"}
        await listed(client, headers, status="received", q="Ada Resident")
        rows = await stack.pool.fetch(
            "SELECT actor_id, action, reference, request_id, after FROM audit_log"
            " WHERE id > $1 AND actor_id = $2",
            before,
            "rita.reviewer",
        )
        assert len(rows) == 1
        row = rows[0]
        assert (row["action"], row["reference"], row["request_id"]) == ("list", None, "list-audit-test")
        assert row["after"]["filters"] == {"status": "received"}
        assert row["after"]["text_search"] is True
        assert "Ada" not in str(row["after"])


async def test_a_declared_conflict_locks_the_declarer_out_and_tells_a_manager(stack: Stack) -> None:
    app = stack.app_with()
    settings: Settings = app.state.services.settings
    async with stack.client(app=app) as client:
        reference = await log_complaint(client, settings)
        ian = bearer("ian.investigator", settings)
        assert reference in await listed(client, ian)
        declared = await client.post(f"/api/complaints/{reference}/conflict", headers=ian)
        assert declared.status_code == 201, declared.text
        assert declared.json() == {
            "reference": reference,
            "staff_id": "ian.investigator",
            "manager_told": True,
        }

        assert_problem(
            await client.get(f"/api/complaints/{reference}", headers=ian), 403, "conflict of interest"
        )
        assert_problem(
            await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=ian), 403
        )
        assert reference not in await listed(client, ian)
        # Everyone else still works on it.
        assert (
            await client.get(f"/api/complaints/{reference}", headers=bearer("ines.investigator", settings))
        ).status_code == 200

        notice = await stack.pool.fetchrow(
            "SELECT audience, recipient, context FROM notifications WHERE reference = $1 AND template = $2",
            reference,
            "conflict_declared",
        )
        assert notice is not None
        assert (notice["audience"], notice["recipient"]) == ("manager", "complaints-manager")
        assert notice["context"]["declared_by"] == "ian.investigator"
        audit = await stack.pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE reference = $1 AND action = 'declare_conflict'", reference
        )
        assert audit == 1
        # The retention purge removes the declaration with the complaint.
        assert await delete_conflicts(stack.pool, reference) == 1
