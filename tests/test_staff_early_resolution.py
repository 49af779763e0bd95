"""Issue 28 in the console and on the resident's page, over HTTP: the case page shows the early-resolution
step (its deadline, resolve early or start the investigation as forms); the resident asks for an
investigation themselves (page button and public API), Stage 1 counted from their request; each council's
policy explained in the console. And issue 25: the reports signed in to the console, with the API's role
checks and audit."""

from __future__ import annotations

import re
import tomllib
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.resident.tokens import form_key
from api.routes.resident_pages import COOKIE
from core.settings import Settings
from domain.deadlines import plan_stage
from domain.policy import Policy
from tests.api_helpers import bearer
from tests.staff_console import console_app, open_complaint, sign_in
from tests.test_early_resolution import POLICIES
from tests.test_residents import complaint

Console = tuple[httpx.AsyncClient, Settings]
THREE_TIER = "bexley-three-tier-console"


@pytest.fixture
def three_tier() -> Policy:
    """Bexley with an early resolution within 5 working days before its Stage 1."""
    data = tomllib.loads((POLICIES / "bexley.toml").read_text(encoding="utf-8"))
    data["id"] = THREE_TIER
    data["early_resolution"] = {"handled_by": "The customer contact team", "resolve": {"amount": 5}}
    return Policy.model_validate(data)


@pytest.fixture
async def console(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    three_tier: Policy,
) -> AsyncIterator[Console]:
    async with console_app(temporal_env, pool, {**policies, THREE_TIER: three_tier}, task_queue) as running:
        yield running


def seq_of(html: str) -> str:
    found = re.search(r'name="seq" value="(\d+)"', html)
    assert found
    return found.group(1)


async def test_the_case_page_shows_early_resolution_and_its_actions(console: Console) -> None:
    client, settings = console
    reference = await open_complaint(client, settings, policy_id=THREE_TIER)
    token = await sign_in(client, "olivia.officer")
    case = await client.get(f"/staff/complaints/{reference}")
    row = (
        await client.get(f"/api/complaints/{reference}", headers=bearer("olivia.officer", settings))
    ).json()
    due = date.fromisoformat(row["deadlines"]["respond_by"])
    assert 'id="early-resolution"' in case.text and "The customer contact team" in case.text
    assert f"{due:%A} {due.day} {due:%B %Y}" in case.text  # the step's own deadline
    shown = set(re.findall(r'data-action="([a-z_]+)"', case.text))
    assert {"resolve_early", "start_investigation"} <= shown and "acknowledge" not in shown
    assert f'href="/staff/complaints/{reference}/act/start-investigation"' in case.text

    form = await client.get(f"/staff/complaints/{reference}/act/start-investigation")
    sent = await client.post(
        f"/staff/complaints/{reference}/act/start-investigation",
        data={
            "csrf_token": token,
            "seq": seq_of(form.text),
            "because": "not_suitable",
            "note": "Site visit.",
        },
    )
    assert sent.status_code == 303, sent.text
    case = await client.get(f"/staff/complaints/{reference}")
    shown = set(re.findall(r'data-action="([a-z_]+)"', case.text))
    assert 'id="early-resolution"' not in case.text
    assert "acknowledge" in shown and "resolve_early" not in shown


async def test_the_resident_asks_for_an_investigation_and_stage_1_counts_from_it(
    console: Console, pool: asyncpg.Pool, three_tier: Policy
) -> None:
    client, _ = console
    # Through the public API.
    made = await client.post("/api/public/complaints", json=complaint(policy_id=THREE_TIER))
    assert made.status_code == 201, made.text
    reference, access = made.json()["reference"], made.json()["access_token"]
    asked = await client.post(
        f"/api/public/complaints/{reference}/investigation", headers={"Authorization": f"Bearer {access}"}
    )
    assert asked.status_code == 200, asked.text
    event = await pool.fetchrow(
        "SELECT at, actor_role, detail FROM complaint_events WHERE reference = $1 AND action ="
        " 'start_investigation'",
        reference,
    )
    assert (
        event is not None and event["actor_role"] == "resident" and event["detail"]["because"] == "requested"
    )
    respond_by = await pool.fetchval("SELECT respond_by FROM complaints WHERE reference = $1", reference)
    assert respond_by == plan_stage(three_tier, 1, event["at"]).respond_by  # counted from the request
    again = await client.post(
        f"/api/public/complaints/{reference}/investigation", headers={"Authorization": f"Bearer {access}"}
    )
    assert again.status_code == 409 and "early resolution has already ended" in again.json()["detail"]

    # Through the complaint page's button (a form with the page's key).
    made = await client.post("/api/public/complaints", json=complaint(policy_id=THREE_TIER))
    reference, access = made.json()["reference"], made.json()["access_token"]
    signed = await client.post("/complaint/track", data={"reference": reference, "token": access})
    assert signed.status_code == 303
    page = await client.get(f"/complaint/{reference}")
    assert 'id="ask-investigation"' in page.text
    key = form_key(client.cookies[COOKIE])
    forged = await client.post(f"/complaint/{reference}/investigation", data={"form_key": "elsewhere"})
    assert forged.status_code == 303 and forged.headers["location"] == f"/complaint/{reference}"
    sent = await client.post(f"/complaint/{reference}/investigation", data={"form_key": key})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=investigation")
    page = await client.get(sent.headers["location"])
    assert "We have started a full investigation of your complaint." in page.text
    assert 'id="ask-investigation"' not in page.text


async def test_a_complaint_without_the_step_offers_no_button(console: Console) -> None:
    client, _ = console
    made = await client.post("/api/public/complaints", json=complaint())
    reference, access = made.json()["reference"], made.json()["access_token"]
    await client.post("/complaint/track", data={"reference": reference, "token": access})
    page = await client.get(f"/complaint/{reference}")
    assert page.status_code == 200 and 'id="ask-investigation"' not in page.text
    refused = await client.post(
        f"/api/public/complaints/{reference}/investigation", headers={"Authorization": f"Bearer {access}"}
    )
    assert refused.status_code == 409 and "no early-resolution step" in refused.json()["detail"]


async def test_the_console_explains_each_councils_policy(console: Console) -> None:
    client, _ = console
    await sign_in(client, "aude.auditor")
    listed = await client.get("/staff/councils")
    assert f'href="/staff/councils/{THREE_TIER}"' in listed.text
    page = await client.get(f"/staff/councils/{THREE_TIER}", params={"received": "2027-03-17"})
    assert page.status_code == 200
    api = await client.get(f"/api/policies/{THREE_TIER}/explanation", params={"received": "2027-03-17"})
    for section in api.json():  # the same explanation as the API's
        assert section["title"] in page.text
        for line in section["lines"]:
            assert line.replace("'", "&#39;").replace('"', "&#34;") in page.text
    assert "Early resolution" in page.text
    wrong = await client.get(f"/staff/councils/{THREE_TIER}", params={"received": "2027-13-45"})
    assert wrong.status_code == 422 and 'href="#received"' in wrong.text


async def test_reports_open_in_the_console_with_the_apis_checks_and_audit(
    console: Console, pool: asyncpg.Pool
) -> None:
    client, settings = console
    await sign_in(client, "maya.manager")
    dashboard = await client.get("/staff/dashboard")
    assert 'href="/staff/reports"' in dashboard.text
    reports = await client.get("/staff/reports")
    assert reports.status_code == 200 and 'action="/staff/reports/performance.csv"' in reports.text
    before = await pool.fetchval("SELECT max(id) FROM audit_log")
    csv = await client.get(
        "/staff/reports/performance.csv", params={"from": "2026-04-01", "to": "2026-12-31"}
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert (
        csv.text
        == (
            await client.get(
                "/api/reports/performance",
                params={"from": "2026-04-01", "to": "2026-12-31", "format": "csv"},
                headers=bearer("maya.manager", settings),
            )
        ).text
    )
    annual = await client.get("/staff/reports/annual", params={"year": "2026"})
    assert annual.status_code == 200 and annual.headers["content-type"].startswith("text/html")
    assessment = await client.get(
        "/staff/reports/self-assessment", params={"year": "2026", "policy_id": "bexley"}
    )
    assert assessment.status_code == 200
    audited = await pool.fetch(
        "SELECT action, actor_id, after FROM audit_log WHERE id > $1 AND actor_id = 'maya.manager'"
        " AND action LIKE 'report_%' ORDER BY id",
        before,
    )
    actions = [row["action"] for row in audited]
    # The console's three reports and the API's one, each audited alike.
    assert actions == ["report_performance", "report_performance", "report_annual", "report_self_assessment"]
    assert audited[0]["after"]["start"] == "2026-04-01"
    bad = await client.get(
        "/staff/reports/performance.csv", params={"from": "2026-13-01", "to": "2026-12-31"}
    )
    assert bad.status_code == 422 and "This report cannot be shown" in bad.text
    # A year it cannot read, or no council for the self-assessment: the page says which, nothing is run.
    bad_year = await client.get("/staff/reports/annual", params={"year": "20x6"})
    assert bad_year.status_code == 422 and "enter a year, for example 2026" in bad_year.text
    no_council = await client.get("/staff/reports/self-assessment", params={"year": "2026"})
    assert (
        no_council.status_code == 422 and "Choose the council the self-assessment is for." in no_council.text
    )
    assert await pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE id > $1 AND action LIKE 'report_%'", before
    ) == len(actions)

    # An officer is refused, as by the API (403), and nothing is audited.
    client.cookies.clear()
    await sign_in(client, "olivia.officer")
    refused = await client.get("/staff/reports/annual", params={"year": "2026"})
    assert refused.status_code == 403
    api = await client.get(
        "/api/reports/annual", params={"year": 2026}, headers=bearer("olivia.officer", settings)
    )
    assert api.status_code == 403
