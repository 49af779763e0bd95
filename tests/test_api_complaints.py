"""The staff API against the real stack: embedded Postgres, Temporal's test server and a real worker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.services import Services
from core.settings import Settings
from core.temporal import workflow_id
from domain.policy import Policy
from tests.api_helpers import (
    PASSWORD,
    api,
    assert_problem,
    bearer,
    complaint_body,
    in_development,
    settings_for,
)

__all__ = ["api"]  # the fixture, imported so pytest finds it here

Client = tuple[httpx.AsyncClient, Settings]


async def create(client: httpx.AsyncClient, settings: Settings, **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/complaints", json=complaint_body(**overrides), headers=bearer("olivia.officer", settings)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def act(
    client: httpx.AsyncClient,
    settings: Settings,
    user: str,
    reference: str,
    action: str,
    body: dict[str, Any],
) -> httpx.Response:
    return await client.post(
        f"/api/complaints/{reference}/{action}", json=body, headers=bearer(user, settings)
    )


async def test_health_and_readiness(api: Client) -> None:
    client, _ = api
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "temporal": "ok"}


async def test_readiness_is_503_when_postgres_is_unreachable(
    temporal_env: WorkflowEnvironment, database_url: str, policies: dict[str, Policy]
) -> None:
    closed = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert closed is not None
    await closed.close()
    settings = settings_for("unused")
    app = create_app(
        settings, Services(settings=settings, pool=closed, temporal=temporal_env.client, policies=policies)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["postgres"].startswith("unreachable")
    assert response.json()["checks"]["temporal"] == "ok"


async def test_token_endpoint_and_authentication_errors(api: Client) -> None:
    client, _ = api
    assert_problem(
        await client.post("/api/auth/token", data={"username": "maya.manager", "password": PASSWORD}), 404
    )  # ENVIRONMENT=test: the dev token endpoint answers in development only
    with in_development(client):
        token = await client.post("/api/auth/token", data={"username": "maya.manager", "password": PASSWORD})
        wrong = await client.post("/api/auth/token", data={"username": "maya.manager", "password": "nope"})
    assert token.status_code == 200
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json() == {"id": "maya.manager", "name": "Maya Manager", "role": "manager"}

    assert_problem(wrong, 401, "wrong password")
    missing = await client.get("/api/complaints")
    assert_problem(missing, 401, "bearer token is required")
    assert missing.headers["www-authenticate"] == "Bearer"
    forged = await client.get("/api/complaints", headers={"Authorization": "Bearer not.a.token"})
    assert_problem(forged, 401, "invalid token")


async def test_create_stores_the_case_and_starts_the_workflow(
    api: Client, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    client, settings = api
    # Received on Friday 20 November 2026 at 10:15 (a letter logged days later keeps its date).
    response = await client.post(
        "/api/complaints",
        json=complaint_body(received_at="2026-11-20T10:15:00Z"),
        headers=bearer("olivia.officer", settings),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    reference = created["reference"]
    assert reference.startswith("CMP-2026-")
    assert response.headers["location"] == f"/api/complaints/{reference}"
    assert created["status"] == "received"
    # Day 0 Fri 20 Nov; 2 working days: Mon 23, Tue 24. 15 working days: Fri 11 Dec.
    assert created["deadlines"]["acknowledge_by"] == "2026-11-24"
    assert created["deadlines"]["respond_by"] == "2026-12-11"

    row = await pool.fetchrow(
        "SELECT policy_id, status, created_by FROM complaints WHERE reference = $1", reference
    )
    assert row is not None and dict(row) == {
        "policy_id": "bexley",
        "status": "received",
        "created_by": "olivia.officer",
    }
    description = await temporal_env.client.get_workflow_handle(workflow_id(reference)).describe()
    attributes = {key.name: value for key, value in description.typed_search_attributes}
    assert attributes["Policy"] == "bexley"
    assert attributes["Stage"] == 1
    assert attributes["ComplaintStatus"] == "received"
    assert attributes["ServiceArea"] == "housing-repairs"

    fetched = await client.get(f"/api/complaints/{reference}", headers=bearer("maya.manager", settings))
    assert fetched.status_code == 200
    assert fetched.json()["history"][0]["action"] == "receive"
    assert fetched.headers["etag"] == fetched.json()["etag"]


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"policy_id": "atlantis"}, "unknown policy"),
        ({"received_at": "2026-11-20T10:15:00"}, "timezone"),
        ({"received_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, "cannot be in the future"),
        ({"complainant": {"name": "No Contact"}}, "one way to reply"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"summary": ""}, "summary"),
        ({"complainant": {"name": "A", "email": "not-an-email"}}, "email"),
        (
            {"representative": {"name": "Sam Advocate", "consent_recorded": True, "consent_kind": "verbal"}},
            "needs written consent on file, not verbal",
        ),
        ({"policy_id": "westminster", "anonymous": True}, "does not accept anonymous"),
    ],
)
async def test_bad_intake_is_a_422_problem(api: Client, overrides: dict[str, Any], detail: str) -> None:
    client, settings = api
    response = await client.post(
        "/api/complaints", json=complaint_body(**overrides), headers=bearer("olivia.officer", settings)
    )
    assert_problem(response, 422, detail)


async def test_malformed_json_is_a_422_problem(api: Client) -> None:
    client, settings = api
    headers = {**bearer("olivia.officer", settings), "Content-Type": "application/json"}
    response = await client.post("/api/complaints", content=b"{not json", headers=headers)
    assert_problem(response, 422)


async def test_unknown_complaint_is_404(api: Client) -> None:
    client, settings = api
    response = await client.get("/api/complaints/CMP-1999-000000", headers=bearer("maya.manager", settings))
    assert_problem(response, 404, "no complaint CMP-1999-000000")
    acted = await act(client, settings, "olivia.officer", "CMP-1999-000000", "acknowledge", {})
    assert_problem(acted, 404)


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("olivia.officer", True),
        ("maya.manager", True),
        ("adam.admin", True),
        ("ian.investigator", False),
        ("rita.reviewer", False),
        ("aude.auditor", False),
    ],
)
async def test_who_may_log_a_complaint(api: Client, user: str, allowed: bool) -> None:
    client, settings = api
    response = await client.post("/api/complaints", json=complaint_body(), headers=bearer(user, settings))
    if allowed:
        assert response.status_code == 201
    else:
        assert_problem(response, 403, "may not create")


async def test_conflict_of_interest_hides_and_blocks(api: Client) -> None:
    client, settings = api
    created = await create(client, settings, staff_complained_about=["ian.investigator"])
    reference = created["reference"]
    seen = await client.get(f"/api/complaints/{reference}", headers=bearer("ian.investigator", settings))
    assert_problem(seen, 403, "named in this complaint")
    listed = await client.get(f"/api/complaints?q={reference}", headers=bearer("ian.investigator", settings))
    assert listed.json()["items"] == []
    await act(client, settings, "olivia.officer", reference, "acknowledge", {})
    assign = await act(
        client, settings, "olivia.officer", reference, "assign", {"assignee": "ian.investigator"}
    )
    assert_problem(assign, 409, "named in the complaint")


async def test_invalid_transition_is_409_and_changes_nothing(api: Client, pool: asyncpg.Pool) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    before = await pool.fetchval("SELECT last_seq FROM complaints WHERE reference = $1", reference)
    response = await act(
        client, settings, "ian.investigator", reference, "respond", {"outcome": "upheld", "findings": "x"}
    )
    assert_problem(response, 409, "cannot respond while the complaint is received")
    assert await pool.fetchval("SELECT last_seq FROM complaints WHERE reference = $1", reference) == before


async def test_stale_if_match_is_412(api: Client) -> None:
    client, settings = api
    created = await create(client, settings)
    reference, etag = created["reference"], created["etag"]
    first = await client.post(
        f"/api/complaints/{reference}/acknowledge",
        json={},
        headers={**bearer("olivia.officer", settings), "If-Match": etag},
    )
    assert first.status_code == 200
    assert first.headers["etag"] != etag
    stale = await client.post(
        f"/api/complaints/{reference}/assign",
        json={"assignee": "ian.investigator"},
        headers={**bearer("maya.manager", settings), "If-Match": etag},
    )
    assert_problem(stale, 412, "changed since you read it")


async def test_from_creation_to_closure_at_stage_2_through_the_api(api: Client, pool: asyncpg.Pool) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    steps: list[tuple[str, str, dict[str, Any], str]] = [
        ("olivia.officer", "acknowledge", {}, "acknowledged"),
        ("olivia.officer", "assign", {"assignee": "ian.investigator"}, "acknowledged"),
        (
            "ian.investigator",
            "request-information",
            {"request": "Photos of the damp, please."},
            "awaiting_information",
        ),
        ("ian.investigator", "information-received", {"summary": "Three photos."}, "acknowledged"),
        (
            "ian.investigator",
            "respond",
            {
                "outcome": "partially_upheld",
                "findings": "The repair was booked late.",
                "remedies": [{"kind": "apology", "description": "We apologise for the delay."}],
                "actions": [
                    {
                        "id": "fix-damp",
                        "description": "Treat the damp",
                        "owner": "repairs",
                        "due_on": "2027-03-01",
                    }
                ],
                "learning": {
                    "root_cause": "process-not-followed",
                    "lessons": "Damp reports were booked as routine repairs.",
                    "improvements": [
                        {
                            "id": "triage-damp",
                            "description": "Triage every damp report as urgent",
                            "owner": "repairs-manager",
                            "due_on": "2027-04-01",
                        }
                    ],
                },
            },
            "responded",
        ),
        (
            "olivia.officer",
            "request-escalation",
            {"reasons": "The damp is back.", "outcome_wanted": "A full survey."},
            "escalation_requested",
        ),
        ("rita.reviewer", "acknowledge", {}, "acknowledged"),
        ("rita.reviewer", "respond", {"outcome": "upheld", "findings": "The survey was needed."}, "closed"),
    ]
    for user, action, body, status in steps:
        response = await act(client, settings, user, reference, action, body)
        assert response.status_code == 200, (action, response.text)
        assert response.json()["status"] == status, action

    final = (
        await client.get(f"/api/complaints/{reference}", headers=bearer("maya.manager", settings))
    ).json()
    assert final["stage"] == 2
    assert final["outcome"] == "upheld"
    assert [item["action"] for item in final["history"]][-3:] == [
        "request_escalation",
        "acknowledge",
        "respond",
    ]
    to_resident = [n["template"] for n in final["notifications"] if n["audience"] == "complainant"]
    assert to_resident == [
        "acknowledgement",
        "information_request",
        "clock_restarted",  # Bexley stops the response clock while it waits: the resident gets the new date
        "response",
        "stage2_acknowledgement",
        "stage2_response",
    ]
    assert final["actions"][0]["id"] == "fix-damp" and final["actions"][0]["completed_at"] is None
    # The learning: the improvement is tracked with the promised action, the lessons are on the case.
    assert [(item["id"], item["kind"]) for item in final["actions"]] == [
        ("fix-damp", "remedy"),
        ("triage-damp", "improvement"),
    ]
    answered = next(item for item in final["history"] if item["action"] == "respond")
    assert answered["detail"]["root_cause"] == "process-not-followed"
    assert answered["detail"]["lessons"] == "Damp reports were booked as routine repairs."

    # The audit trail of the whole walk-through says who did what and which fields, never the complainant's
    # personal data: a grep of every row finds none of it (issue 12).
    trail = await pool.fetch("SELECT * FROM audit_log WHERE reference = $1 ORDER BY id", reference)
    dumped = json.dumps([dict(row) for row in trail], default=str)
    body = complaint_body()
    personal = [
        body["complainant"]["name"],
        body["complainant"]["email"],
        body["summary"],
        body["desired_outcome"],
    ]
    personal += ["Photos of the damp", "Three photos", "The damp is back", "A full survey", "booked late"]
    personal += ["booked as routine"]  # the lessons are free text too
    for text in personal:
        assert text not in dumped, text
    assert [row["action"] for row in trail][:2] == ["create", "acknowledge"]
    escalation = next(row for row in trail if row["action"] == "request_escalation")
    assert (escalation["actor_id"], escalation["actor_role"]) == ("olivia.officer", "complaints_officer")
    assert escalation["request_id"] and escalation["at"]
    assert escalation["after"]["status"] == "escalation_requested"
    reasons = escalation["after"]["request"]["reasons"]
    assert reasons["chars"] == len("The damp is back.") and len(reasons["hmac"]) == 16


async def test_investigator_cannot_answer_stage_2(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    await act(client, settings, "olivia.officer", reference, "acknowledge", {})
    await act(
        client, settings, "ian.investigator", reference, "respond", {"outcome": "not_upheld", "findings": "x"}
    )
    await act(client, settings, "olivia.officer", reference, "request-escalation", {"reasons": "Unhappy"})
    await act(client, settings, "rita.reviewer", reference, "acknowledge", {})
    response = await act(
        client, settings, "ian.investigator", reference, "respond", {"outcome": "upheld", "findings": "y"}
    )
    assert_problem(response, 403, "may not respond")
    # A manager who answered Stage 1 cannot answer Stage 2 either: independence is enforced by the workflow.
    other = (await create(client, settings))["reference"]
    await act(client, settings, "olivia.officer", other, "acknowledge", {})
    await act(client, settings, "maya.manager", other, "respond", {"outcome": "not_upheld", "findings": "x"})
    await act(client, settings, "olivia.officer", other, "request-escalation", {"reasons": "Unhappy"})
    await act(client, settings, "rita.reviewer", other, "acknowledge", {})
    again = await act(
        client, settings, "maya.manager", other, "respond", {"outcome": "upheld", "findings": "y"}
    )
    assert_problem(again, 409, "needs someone independent")


async def test_auditor_reads_and_audits_but_cannot_act(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    assert (
        await client.get(f"/api/complaints/{reference}", headers=bearer("aude.auditor", settings))
    ).status_code == 200
    refused = await act(client, settings, "aude.auditor", reference, "add-note", {"text": "hello"})
    assert_problem(refused, 403)
    audit = await client.get(f"/api/complaints/{reference}/audit", headers=bearer("aude.auditor", settings))
    assert audit.status_code == 200
    entries = audit.json()
    assert [(entry["actor_id"], entry["action"]) for entry in entries] == [
        ("olivia.officer", "create"),
        ("aude.auditor", "read"),
    ]
    investigator = await client.get(
        f"/api/complaints/{reference}/audit", headers=bearer("ian.investigator", settings)
    )
    assert_problem(investigator, 403)


async def test_audit_log_is_append_only(api: Client, pool: asyncpg.Pool) -> None:
    client, settings = api
    await create(client, settings)
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pool.execute("UPDATE audit_log SET actor_id = 'someone-else'")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pool.execute("DELETE FROM audit_log")


async def test_list_filters_and_cursor_pagination(api: Client) -> None:
    client, settings = api
    # A word of their own finds these five in the shared database (service areas are the policy's list).
    marker = f"list{datetime.now(UTC).timestamp():.0f}"
    references = []
    for days in range(5):
        received = (datetime.now(UTC) - timedelta(days=days + 1)).isoformat()
        created = await create(client, settings, summary=f"Damp, case {marker}.", received_at=received)
        references.append(created["reference"])
    headers = bearer("maya.manager", settings)
    page = await client.get(f"/api/complaints?q={marker}&limit=2", headers=headers)
    seen = [item["reference"] for item in page.json()["items"]]
    while page.json()["next_cursor"]:
        page = await client.get(
            f"/api/complaints?q={marker}&limit=2&cursor={page.json()['next_cursor']}",
            headers=headers,
        )
        seen += [item["reference"] for item in page.json()["items"]]
    assert seen == references  # newest received first, each exactly once
    oldest_first = await client.get(f"/api/complaints?q={marker}&sort=received_at", headers=headers)
    assert [item["reference"] for item in oldest_first.json()["items"]] == references[::-1]
    await act(client, settings, "olivia.officer", references[0], "acknowledge", {})
    acknowledged = await client.get(f"/api/complaints?q={marker}&status=acknowledged", headers=headers)
    assert [item["reference"] for item in acknowledged.json()["items"]] == [references[0]]
    bad = await client.get("/api/complaints?cursor=garbage", headers=headers)
    assert_problem(bad, 422, "cursor")
    bad_sort = await client.get("/api/complaints?sort=name", headers=headers)
    assert_problem(bad_sort, 422, "sort")


async def test_a_complaint_about_an_investigator_goes_to_a_manager(api: Client) -> None:
    client, settings = api
    created = await create(client, settings, staff_complained_about=["ian.investigator"])
    reference = created["reference"]
    await act(client, settings, "olivia.officer", reference, "acknowledge", {})
    to_peer = await act(
        client, settings, "olivia.officer", reference, "assign", {"assignee": "ines.investigator"}
    )
    assert_problem(to_peer, 409, "assign it to a manager")
    peer_answer = await act(
        client, settings, "ines.investigator", reference, "respond", {"outcome": "upheld", "findings": "x"}
    )
    assert_problem(peer_answer, 409, "a manager must answer it")
    assigned = await act(
        client, settings, "olivia.officer", reference, "assign", {"assignee": "maya.manager"}
    )
    assert assigned.json()["assigned_to"] == "maya.manager"
    answered = await act(
        client,
        settings,
        "maya.manager",
        reference,
        "respond",
        {"outcome": "upheld", "findings": "Rude on the phone."},
    )
    assert answered.json()["status"] == "responded"


async def test_a_complaint_about_other_staff_is_handled_as_usual(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings, staff_complained_about=["olivia.officer"]))["reference"]
    await act(client, settings, "maya.manager", reference, "acknowledge", {})
    assigned = await act(
        client, settings, "maya.manager", reference, "assign", {"assignee": "ines.investigator"}
    )
    assert assigned.status_code == 200


async def test_free_text_finds_words_names_and_references(api: Client) -> None:
    client, settings = api
    created = await create(
        client,
        settings,
        complainant={"name": "Bartholomew Quigley", "email": "bq@example.org"},
        summary="Scaffolding left outside number 12 for nine weeks.",
    )
    reference = created["reference"]
    headers = bearer("maya.manager", settings)

    async def found(text: str) -> list[str]:
        response = await client.get("/api/complaints", params={"q": text}, headers=headers)
        assert response.status_code == 200
        return [item["reference"] for item in response.json()["items"]]

    assert reference in await found("scaffold")  # a word, by its start
    assert reference in await found("quigley")  # the complainant's name, any case
    assert reference in await found("Bartholomew scaffolding")  # every word must match
    assert reference in await found(reference[:-2])  # a reference by its start
    assert reference not in await found("scaffolding zebra")
    assert await found("%_%") == []  # LIKE wildcards are literal characters here


async def test_list_filters_can_be_answered_from_indexes(pool: asyncpg.Pool) -> None:
    """With sequential scans priced out, the planner shows the indexes behind free text and overdue lists."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SET LOCAL enable_seqscan = off")
        text_plan = "\n".join(
            row[0]
            for row in await connection.fetch(
                "EXPLAIN SELECT reference FROM complaints"
                " WHERE reference LIKE 'QUIG%' OR search @@ to_tsquery('simple', 'quig:*')"
            )
        )
        await connection.execute("SET LOCAL enable_bitmapscan = off")
        await connection.execute("SET LOCAL enable_sort = off")
        overdue_plan = "\n".join(
            row[0]
            for row in await connection.fetch(
                "EXPLAIN SELECT reference FROM complaints WHERE overdue"
                " ORDER BY received_at DESC, reference DESC LIMIT 50"
            )
        )
    assert "complaints_search_idx" in text_plan
    assert "complaints_reference_pattern_idx" in text_plan
    assert "complaints_overdue_idx" in overdue_plan
    assert "Sort" not in overdue_plan  # served in list order, newest first
