"""Issue 29 (5): the codec server decodes only payloads of complaints the caller may read (need-to-know and
conflicts of interest, as on reads), and the audit row names the complaint."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from temporalio.client import Client as TemporalClient

from core.settings import Settings
from core.temporal import workflow_id
from tests.api_helpers import assert_problem
from tests.test_need_to_know import log_complaint, token_with_claims
from tests.test_personal_data import as_json, payloads_in
from tests.test_residents import Stack, stack

__all__ = ["stack"]


async def test_a_manager_limited_to_an_area_cannot_decode_another_areas_complaint(stack: Stack) -> None:
    settings: Settings = stack.settings
    async with stack.client() as client:
        housing = await log_complaint(client, settings, service_area="housing-repairs")
        mine = await log_complaint(client, settings, service_area="waste")
        plain = TemporalClient(stack.env.client.service_client, namespace=stack.env.client.namespace)
        history = await plain.get_workflow_handle(workflow_id(housing)).fetch_history()
        payloads = [p for event in history.events for p in payloads_in(event)]
        waste_manager = token_with_claims("maya.manager", settings, service_areas=["waste"])

        # Naming the other area's workflow: as unknown to them as on a read.
        named = await client.post(
            "/codec/decode",
            json=as_json(payloads),
            headers=waste_manager | {"X-Workflow-Id": workflow_id(housing)},
        )
        assert_problem(named, 404)
        # Naming their own area's workflow but sending the other's payloads.
        smuggled = await client.post(
            "/codec/decode",
            json=as_json(payloads),
            headers=waste_manager | {"X-Workflow-Id": workflow_id(mine)},
        )
        assert_problem(smuggled, 403)
        # Naming no workflow at all.
        assert_problem(await client.post("/codec/decode", json=as_json(payloads), headers=waste_manager), 422)

        # A manager who may read it decodes it, and the audit row names the complaint.
        everyone = token_with_claims("maya.manager", settings)
        decoded = await client.post(
            "/codec/decode",
            json=as_json(payloads),
            headers=everyone | {"X-Workflow-Id": workflow_id(housing)},
        )
        assert decoded.status_code == 200, decoded.text
        assert housing.encode() in b"".join(base64.b64decode(p["data"]) for p in decoded.json()["payloads"])
        audited = await stack.pool.fetchval(
            "SELECT reference FROM audit_log WHERE action = 'decode_payloads' ORDER BY id DESC LIMIT 1"
        )
        assert audited == housing


async def test_a_declared_conflict_closes_the_codec_too(stack: Stack) -> None:
    settings: Settings = stack.settings
    async with stack.client() as client:
        reference = await log_complaint(client, settings)
        manager = token_with_claims("maya.manager", settings)
        declared = await client.post(
            f"/api/complaints/{reference}/conflict", json={"reason": "my neighbour"}, headers=manager
        )
        assert declared.status_code in (200, 201), declared.text
        plain = TemporalClient(stack.env.client.service_client, namespace=stack.env.client.namespace)
        history = await plain.get_workflow_handle(workflow_id(reference)).fetch_history()
        payloads = [p for event in history.events for p in payloads_in(event)]
        refused = await client.post(
            "/codec/decode",
            json=as_json(payloads),
            headers=manager | {"X-Workflow-Id": workflow_id(reference)},
        )
        assert_problem(refused, 403)


async def _refusals(stack: Stack, request_id: str) -> list[dict[str, Any]]:
    rows = await stack.pool.fetch(
        "SELECT actor_id, reference, after FROM audit_log WHERE action = 'decode_payloads_refused'"
        " AND request_id = $1",
        request_id,
    )
    return [
        {**dict(row), "after": json.loads(row["after"]) if isinstance(row["after"], str) else row["after"]}
        for row in rows
    ]


async def test_a_decode_naming_no_workflow_is_refused_and_audited_never_decoded_blind(stack: Stack) -> None:
    """Issue 29: the stock Temporal UI names no workflow. Outside development such a decode is refused (a
    422 that says how the proxy adds the id), and every refusal is in the audit trail: who, which complaint,
    why."""
    settings: Settings = stack.settings
    async with stack.client() as client:
        housing = await log_complaint(client, settings, service_area="housing-repairs")
        plain = TemporalClient(stack.env.client.service_client, namespace=stack.env.client.namespace)
        history = await plain.get_workflow_handle(workflow_id(housing)).fetch_history()
        payloads = as_json([p for event in history.events for p in payloads_in(event)])
        manager = token_with_claims("maya.manager", settings)
        blind = await client.post(
            "/codec/decode", json=payloads, headers=manager | {"X-Request-ID": "blind-1"}
        )
        problem = assert_problem(blind, 422, "deploy/temporal-ui-proxy/")
        assert "payloads" not in problem
        [audited] = await _refusals(stack, "blind-1")
        assert audited["actor_id"] == "maya.manager" and audited["reference"] is None
        assert audited["after"]["kind"] == "no_workflow_named" and audited["after"]["status"] == 422

        waste_manager = token_with_claims("maya.manager", settings, service_areas=["waste"])
        other_area = await client.post(
            "/codec/decode",
            json=payloads,
            headers=waste_manager | {"X-Workflow-Id": workflow_id(housing), "X-Request-ID": "blind-2"},
        )
        assert_problem(other_area, 404)
        [audited] = await _refusals(stack, "blind-2")
        assert (audited["reference"], audited["after"]["kind"]) == (housing, "not_found")


def test_the_ui_proxy_names_the_workflow_of_the_page_and_nothing_else() -> None:
    """deploy/temporal-ui-proxy/nginx.conf: X-Workflow-Id comes from the UI page's address (the Referer of a
    same-origin codec call), replaces any the browser sent, and is empty off a workflow's page; the UI's
    pages send their address to their own origin only; the codec gets the signed-in staff member's token."""
    conf = (Path(__file__).parent.parent / "deploy" / "temporal-ui-proxy" / "nginx.conf").read_text()
    [pattern] = re.findall(r'"~(\^https://[^"]+)" \$workflow;', conf)
    referer = re.compile(pattern.replace("(?<", "(?P<"))  # nginx's PCRE named group, in Python's spelling

    def workflow_of(address: str) -> str | None:
        found = referer.match(address)
        return found.group("workflow") if found else None

    host = "https://temporal.council.example"
    page = f"{host}/namespaces/default/workflows/complaint-CMP-2026-000007/0193-run/history"
    assert workflow_of(page) == "complaint-CMP-2026-000007"
    assert workflow_of(f"{host}/namespaces/default/workflows/complaint-CMP-2026-000007?tab=1") == (
        "complaint-CMP-2026-000007"
    )
    assert workflow_of(f"{host}/namespaces/default/workflows") is None
    assert workflow_of(f"{host}/namespaces/default/workflows?query=x") is None
    assert workflow_of("http://temporal.council.example/namespaces/default/workflows/complaint-X/r") is None

    codec = conf[conf.index("location /codec/ {") :]
    codec = codec[: codec.index("}")]
    # proxy_set_header replaces what the browser sent; the map's default is empty (no header at all).
    assert "proxy_set_header X-Workflow-Id $complaints_codec_workflow_id;" in codec
    assert 'proxy_set_header Authorization "Bearer $complaints_access_token";' in codec
    assert "auth_request /oauth2/auth;" in codec and "proxy_pass http://complaints_api/codec/;" in codec
    ui = conf[conf.index("location / {") :]
    assert "add_header Referrer-Policy same-origin always;" in ui[: ui.index("}")]
    assert 'default "";' in conf[conf.index("map $http_referer") :]


async def test_a_payload_naming_a_reference_past_the_millionth_complaint_is_checked_too(stack: Stack) -> None:
    """References keep their number as it grows past six digits (CMP-2026-1000000): a payload naming one is
    checked like any other, never decoded for someone who may not read that complaint."""
    settings: Settings = stack.settings
    async with stack.client() as client:
        mine = await log_complaint(client, settings, service_area="waste")
        smuggled = await stack.env.client.data_converter.encode([{"reference": "CMP-2026-1234567"}])
        manager = token_with_claims("maya.manager", settings)
        refused = await client.post(
            "/codec/decode",
            json=as_json(list(smuggled)),
            headers=manager | {"X-Workflow-Id": workflow_id(mine)},
        )
        assert_problem(refused, 403)
