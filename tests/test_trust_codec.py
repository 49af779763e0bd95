"""Issue 29 (5): the codec server decodes only payloads of complaints the caller may read (need-to-know and
conflicts of interest, as on reads), and the audit row names the complaint."""

from __future__ import annotations

import base64

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
