"""Personal data in Temporal and through the API: encrypted payloads, the codec server the Temporal UI calls,
and subject access. The real API over the real database, Temporal's test server and a real worker."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client as TemporalClient
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.codec import ENCODING
from core.services import Services
from core.settings import Settings
from core.temporal import data_converter, workflow_id
from domain.policy import Policy
from tests.api_helpers import api, assert_problem, bearer, complaint_body

__all__ = ["api"]  # the fixture, imported so pytest finds it here

Client = tuple[httpx.AsyncClient, Settings]

NAME, EMAIL, PHONE, ADDRESS = (
    "Ada Lovelace-Resident",
    "ada.lovelace@example.org",
    "07700 900123",
    "12 Mill Lane",
)
SUMMARY = "Black mould behind the wardrobe in my daughter's room since March."
NOTE = "Spoke to Ada: her daughter has asthma, visit booked for Tuesday."
PERSONAL = [NAME, EMAIL, PHONE, ADDRESS, SUMMARY, NOTE]
UI_ORIGIN = "http://127.0.0.1:8233"


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload anywhere inside a protobuf message (inputs, results, memo, failures, headers...)."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if isinstance(value, Message):
            yield from payloads_in(value)
            continue
        # A repeated field or a map (of which the values count).
        for item in value.values() if hasattr(value, "values") else value:
            if isinstance(item, Message):
                yield from payloads_in(item)


def as_json(payloads: list[Payload]) -> dict[str, Any]:
    """Temporal's codec-server protocol: base64 data and metadata values."""
    return {
        "payloads": [
            {
                "metadata": {key: base64.b64encode(value).decode() for key, value in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


async def open_with_a_note(client: httpx.AsyncClient, settings: Settings) -> str:
    body = complaint_body(
        complainant={"name": NAME, "email": EMAIL, "phone": PHONE, "address": ADDRESS}, summary=SUMMARY
    )
    created = await client.post("/api/complaints", json=body, headers=bearer("olivia.officer", settings))
    assert created.status_code == 201, created.text
    reference: str = created.json()["reference"]
    noted = await client.post(
        f"/api/complaints/{reference}/add-note",
        json={"text": NOTE},
        headers=bearer("olivia.officer", settings),
    )
    assert noted.status_code == 200, noted.text
    return reference


async def test_the_raw_history_holds_no_personal_data_and_the_codec_server_decodes_it(
    api: Client, temporal_env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    client, settings = api
    reference = await open_with_a_note(client, settings)

    # What anyone with access to Temporal (its UI, its database, tctl) sees: a client without the codec.
    plain = TemporalClient(temporal_env.client.service_client, namespace=temporal_env.client.namespace)
    history = await plain.get_workflow_handle(workflow_id(reference)).fetch_history()
    raw = History(events=history.events).SerializeToString()
    for personal in PERSONAL:
        assert personal.encode() not in raw, personal
    payloads = [p for event in history.events for p in payloads_in(event)]
    assert any(p.metadata.get("encoding") == ENCODING for p in payloads)

    # The Temporal UI decodes them through the API, with a permitted user's token.
    decoded = await client.post(
        "/codec/decode",
        json=as_json(payloads),
        headers=bearer("maya.manager", settings)
        | {"X-Namespace": "default", "Origin": UI_ORIGIN, "X-Workflow-Id": workflow_id(reference)},
    )
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["access-control-allow-origin"] == UI_ORIGIN
    clear = b"".join(base64.b64decode(p["data"]) for p in decoded.json()["payloads"])
    for personal in PERSONAL:
        assert personal.encode() in clear, personal
    assert len(decoded.json()["payloads"]) == len(payloads)

    # Only roles that may read personal data in bulk; never without a token outside development.
    officer = await client.post(
        "/codec/decode", json=as_json(payloads), headers=bearer("olivia.officer", settings)
    )
    assert_problem(officer, 403, "may not decode payloads")
    auditor = await client.post(
        "/codec/decode", json=as_json(payloads), headers=bearer("aude.auditor", settings)
    )
    assert_problem(auditor, 403)
    assert_problem(await client.post("/codec/decode", json=as_json(payloads)), 401)

    # Each use is audited: who, when, how many payloads, from which namespace.
    audited = await pool.fetchrow(
        "SELECT actor_role, after FROM audit_log WHERE action = 'decode_payloads'"
        " AND actor_id = 'maya.manager' ORDER BY id DESC LIMIT 1"
    )
    assert audited is not None
    assert audited["actor_role"] == "manager"
    assert audited["after"] == {"namespace": "default", "payloads": len(payloads)}


async def test_the_codec_server_encodes_for_the_ui_and_answers_its_preflight(api: Client) -> None:
    client, settings = api
    plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps({"note": NOTE}).encode())
    encoded = await client.post(
        "/codec/encode", json=as_json([plain]), headers=bearer("adam.admin", settings)
    )
    assert encoded.status_code == 200, encoded.text
    [item] = encoded.json()["payloads"]
    assert base64.b64decode(item["metadata"]["encoding"]) == ENCODING
    assert NOTE.encode() not in base64.b64decode(item["data"])
    back = await client.post(
        "/codec/decode",
        json=encoded.json(),
        headers=bearer("adam.admin", settings) | {"X-Workflow-Id": "overdue-digest"},
    )
    assert back.json() == as_json([plain])

    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,x-namespace",
    }
    allowed = await client.options("/codec/decode", headers={"Origin": UI_ORIGIN} | preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI_ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    stranger = await client.options("/codec/decode", headers={"Origin": "https://evil.example"} | preflight)
    assert "access-control-allow-origin" not in stranger.headers
    # The rest of the API stays closed to cross-origin browsers.
    api_call = await client.options("/api/complaints", headers={"Origin": UI_ORIGIN} | preflight)
    assert "access-control-allow-origin" not in api_call.headers

    garbled = await client.post(
        "/codec/decode",
        json={"payloads": [{"metadata": {"encoding": "%%%"}, "data": ""}]},
        headers=bearer("adam.admin", settings) | {"X-Workflow-Id": "overdue-digest"},
    )
    assert_problem(garbled, 422, "base64")
    # A character outside ASCII is not base64 either (the fuzzer found it answered 500).
    accented = await client.post(
        "/codec/decode",
        json={"payloads": [{"metadata": {}, "data": "\u00c6AAA"}]},
        headers=bearer("adam.admin", settings) | {"X-Workflow-Id": "overdue-digest"},
    )
    assert_problem(accented, 422, "base64")


async def test_subject_access_returns_everything_held_to_the_roles_that_answer_it(
    api: Client, pool: asyncpg.Pool
) -> None:
    client, settings = api
    reference = await open_with_a_note(client, settings)
    response = await client.get(
        f"/api/complaints/{reference}/personal-data", headers=bearer("maya.manager", settings)
    )
    assert response.status_code == 200, response.text
    held = response.json()
    assert held["reference"] == reference
    assert held["complainant"]["name"] == NAME
    assert (held["complainant"]["email"], held["complainant"]["phone"]) == (EMAIL, PHONE)
    assert held["complainant"]["address"] == ADDRESS
    assert held["summary"] == SUMMARY
    assert held["personal_data_destroyed_at"] is None
    # Notes live in the event trail (PostgreSQL), never in the workflow's state (issue 23: bounded state).
    assert NOTE in json.dumps(held["events"]) and NOTE not in json.dumps(held["workflow_state"])
    assert any(message["recipient"] or message["to_address"] for message in held["messages"])
    assert {"create", "add_note"} <= {entry["action"] for entry in held["access_log"]}
    assert "add_note" in [event["action"] for event in held["events"]]

    assert (
        await client.get(f"/api/complaints/{reference}/personal-data", headers=bearer("adam.admin", settings))
    ).status_code == 200
    for role_user in ("olivia.officer", "ian.investigator", "aude.auditor"):
        refused = await client.get(
            f"/api/complaints/{reference}/personal-data", headers=bearer(role_user, settings)
        )
        assert_problem(refused, 403, "may not subject access")
    audited = await pool.fetch(
        "SELECT actor_id FROM audit_log WHERE reference = $1 AND action = 'subject_access' ORDER BY id",
        reference,
    )
    assert [row["actor_id"] for row in audited] == ["maya.manager", "adam.admin"]


async def test_in_development_only_the_token_less_dev_ui_is_let_in_and_audited(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    [encrypted] = await data_converter().encode([{"name": NAME}])

    async def decode_without_a_token(environment: str) -> httpx.Response:
        settings = Settings(_env_file=None, environment=environment)
        services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
        transport = httpx.ASGITransport(app=create_app(settings, services))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/codec/decode", json=as_json([encrypted]))

    assert_problem(await decode_without_a_token("test"), 401)
    dev = await decode_without_a_token("development")
    assert dev.status_code == 200, dev.text
    assert NAME.encode() in base64.b64decode(dev.json()["payloads"][0]["data"])
    row = await pool.fetchrow(
        "SELECT actor_id, actor_role FROM audit_log WHERE action = 'decode_payloads' ORDER BY id DESC LIMIT 1"
    )
    assert row is not None and (row["actor_id"], row["actor_role"]) == ("temporal-ui", "admin")
