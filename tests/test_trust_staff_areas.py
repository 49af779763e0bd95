"""Issue 29 (6): a service area staff enter (logging a complaint through the API or the console, opening one
from an e-mail in triage, recording a service request, opening a linked complaint in another area) is one of
the complaint's policy's areas: anything else is a clear 422 naming the allowed codes, shown beside the
field on the console's forms. A well-formed code the policy does not list would escape every area-limited
team (the need-to-know filters compare codes)."""

from __future__ import annotations

import re

import asyncpg
import httpx

from core.settings import Settings
from tests.api_helpers import assert_problem, bearer, complaint_body
from tests.inbound_helpers import Inbound, eventually, inbound, mail
from tests.staff_console import console, form_token, open_complaint, sign_in

__all__ = ["console", "inbound"]  # the fixtures, imported so pytest finds them here

ALLOWED = "housing-repairs, housing, waste, council-tax, parking, planning, social-care, general"


def _error_beside(html: str, field: str) -> str:
    found = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', html, re.S)
    assert found, f"no error beside {field}"
    return found.group(1)


async def test_staff_logging_a_complaint_choose_one_of_the_policys_areas(
    console: tuple[httpx.AsyncClient, Settings],
    pool: asyncpg.Pool,
) -> None:
    client, settings = console
    before = await pool.fetchval("SELECT count(*) FROM complaints WHERE service_area = 'roads'")
    refused = await client.post(
        "/api/complaints",
        json=complaint_body(service_area="roads"),
        headers=bearer("olivia.officer", settings),
    )
    assert_problem(
        refused, 422, f"service_area: 'roads' is not one of this council's service areas: {ALLOWED}"
    )

    # The console's intake form: the allowed codes in the hint, the refusal beside the field.
    token = await sign_in(client, "olivia.officer")
    form = await client.get("/staff/complaints/new", params={"policy_id": "bexley"})
    assert f"service areas: {ALLOWED}" in form.text
    typed = {
        "csrf_token": token,
        "intake_key": "area-check",
        "policy_id": "bexley",
        "channel": "phone",
        "name": "Ada Resident",
        "email": "ada@example.org",
        "service_area": "roads",
        "summary": "The pavement outside my house is broken.",
        "received_on": "2026-12-01",
    }
    page = await client.post("/staff/complaints/new", data=typed)
    assert page.status_code == 422, page.text
    beside = _error_beside(page.text, "service_area")
    assert "is not one of this council" in beside and ALLOWED in beside
    assert await pool.fetchval("SELECT count(*) FROM complaints WHERE service_area = 'roads'") == before

    logged = await client.post("/staff/complaints/new", data=typed | {"service_area": "parking"})
    assert logged.status_code == 303, logged.text


async def test_a_linked_complaint_in_another_area_takes_one_of_the_policys_areas(
    console: tuple[httpx.AsyncClient, Settings],
    pool: asyncpg.Pool,
) -> None:
    client, settings = console
    reference = await open_complaint(client, settings)
    officer = bearer("olivia.officer", settings)
    url = f"/api/complaints/{reference}/open-linked-complaint"
    refused = await client.post(
        url, json={"summary": "Also the road.", "service_area": "roads"}, headers=officer
    )
    assert_problem(refused, 422, ALLOWED)
    linked = "SELECT service_area FROM complaints WHERE related_to = $1"
    assert await pool.fetch(linked, reference) == []

    # On the console: the refusal is beside the field.
    await sign_in(client, "olivia.officer")
    form = await client.get(f"/staff/complaints/{reference}/act/open-linked-complaint")
    assert form.status_code == 200, form.text
    seq = re.search(r'name="seq" value="(\d+)"', form.text)
    assert seq
    page = await client.post(
        f"/staff/complaints/{reference}/act/open-linked-complaint",
        data={
            "csrf_token": form_token(form.text),
            "seq": seq.group(1),
            "summary": "Also the road.",
            "service_area": "roads",
        },
    )
    assert page.status_code == 422, page.text
    assert ALLOWED in page.text and 'id="service_area-error"' in page.text

    opened = await client.post(
        url, json={"summary": "Also the bins.", "service_area": "waste"}, headers=officer
    )
    assert opened.status_code == 200, opened.text
    # The linked complaint's own workflow writes its row.
    rows = await eventually(lambda: pool.fetch(linked, reference), "the linked complaint's row")
    assert [row["service_area"] for row in rows] == ["waste"]


async def test_triage_opens_and_registers_only_the_policys_areas(inbound: Inbound) -> None:
    stack = inbound
    await stack.send(mail(sender="Bea <bea@example.net>", subject="Area check", text="The road is broken."))
    officer = bearer("olivia.officer", stack.settings)
    [item] = [
        item
        for item in (await stack.client.get("/api/triage", headers=officer)).json()
        if item["subject"] == "Area check"
    ]
    base = f"/api/triage/{item['id']}"
    roads = {"policy_id": "bexley", "service_area": "roads"}
    assert_problem(
        await stack.client.post(f"{base}/open-complaint", json=roads, headers=officer), 422, ALLOWED
    )
    assert_problem(
        await stack.client.post(f"{base}/service-request", json=roads, headers=officer), 422, ALLOWED
    )
    # Nothing was decided: the message still waits for an officer.
    status = await stack.pool.fetchval("SELECT status FROM inbound_messages WHERE id = $1::uuid", item["id"])
    assert status == "triage"
    recorded = await stack.client.post(
        f"{base}/service-request", json=roads | {"service_area": "parking"}, headers=officer
    )
    assert recorded.status_code == 201, recorded.text
