"""The annual report's sections as the Complaint Handling Code's section 8 lists them: filled from the
service's records where it has them (complaints refused, the ombudsman's findings, CH01 and CH02 with their
timescales) and from what the complaints manager entered (stored per council and year, audited)."""

from __future__ import annotations

import asyncpg
import httpx

from core.settings import Settings
from tests.api_helpers import assert_problem, bearer
from tests.report_scenario import KnownSet
from tests.test_reports import report_api

__all__ = ["report_api"]  # the fixture, imported so pytest finds it here


async def test_the_annual_report_has_every_section_and_the_managers_parts(
    report_api: tuple[httpx.AsyncClient, Settings, KnownSet],
) -> None:
    client, settings, known = report_api
    year = known.monday.year if known.monday.month >= 4 else known.monday.year - 1
    manager = bearer("maya.manager", settings)
    where = {"policy_id": known.policy_id}
    sections = f"/api/reports/annual/{year}/sections"

    response = "The board noted the report.\n\nIt asked for damp cases to be reviewed monthly."
    put = await client.put(
        f"{sections}/governing_body_response", params=where, json={"text": response}, headers=manager
    )
    assert put.status_code == 200, put.text
    assert (put.json()["section"], put.json()["entered_by"]) == ("governing_body_response", "maya.manager")
    letter = {"text": "The ombudsman's letter: one finding of fault."}
    assert (
        await client.put(f"{sections}/ombudsman_letter", params=where, json=letter, headers=manager)
    ).status_code == 200
    # Entered again: the last text stands.
    await client.put(f"{sections}/ombudsman_letter", params=where, json=letter, headers=manager)

    # Managers write; auditors and admins read the report but do not write it; sections are the Code's.
    for user in ("aude.auditor", "adam.admin", "olivia.officer"):
        refused = await client.put(
            f"{sections}/governing_body_response", params=where, json=letter, headers=bearer(user, settings)
        )
        assert_problem(refused, 403)
    assert_problem(await client.put(f"{sections}/minutes", params=where, json=letter, headers=manager), 422)
    # A council the service does not hold is named in a clear 422, whether written or read.
    nowhere = {"policy_id": "atlantis"}
    assert_problem(
        await client.put(f"{sections}/ombudsman_letter", params=nowhere, json=letter, headers=manager),
        422,
        "unknown policy 'atlantis'",
    )
    assert_problem(
        await client.get(sections, params=nowhere, headers=manager), 422, "unknown policy 'atlantis'"
    )
    assert_problem(
        await client.put(f"{sections}/ombudsman_letter", params=where, json={"text": ""}, headers=manager),
        422,
    )
    listed = await client.get(sections, params=where, headers=bearer("aude.auditor", settings))
    assert [entry["section"] for entry in listed.json()] == ["governing_body_response", "ombudsman_letter"]

    html = (await client.get("/api/reports/annual", params={"year": year, **where}, headers=manager)).text
    # The Code's section 8, in its order.
    headings = [
        'id="self-assessment"',
        'id="analysis"',
        'id="tsm"',
        'id="refused"',
        'id="ombudsman-findings"',
        'id="learning-themes"',
        'id="ombudsman-letter"',
        'id="governing-body-response"',
    ]
    places = [html.index(heading) for heading in headings]
    assert places == sorted(places)
    # From the records: D refused as a service request; B's decision with a complaint-handling failure;
    # CH02 on the Code's clock (C late on it), with the timescales printed.
    refused_table = html.split('id="refused"')[1].split("</table>")[0]
    assert '<td>service request</td><td class="n">1</td>' in refused_table
    findings = html.split('id="ombudsman-findings"')[1].split("</table>")[0]
    assert "<strong>1</strong>" in findings and "fault causing injustice" in findings
    tsm = html.split('id="tsm"')[1].split("</table>")[0]
    assert "66.7% (2 of 3)" in tsm and "answer in 10 from the acknowledgement" in tsm
    # From the manager: entered texts, paragraph by paragraph; parts not entered say who fills them.
    assert "<p>The board noted the report.</p>" in html
    assert "<p>It asked for damp cases to be reviewed monthly.</p>" in html
    assert "Entered by maya.manager" in html
    assert 'id="entered-self_assessment"' in html and "to be entered by the complaints manager" in html


async def test_an_entry_is_audited_without_its_text(
    report_api: tuple[httpx.AsyncClient, Settings, KnownSet], pool: asyncpg.Pool
) -> None:
    client, settings, known = report_api
    manager = bearer("maya.manager", settings)
    text = "Our self-assessment found two gaps."
    put = await client.put(
        "/api/reports/annual/2030/sections/self_assessment",
        params={"policy_id": known.policy_id},
        json={"text": text},
        headers=manager,
    )
    assert put.status_code == 200
    row = await pool.fetchrow(
        "SELECT actor_id, after FROM audit_log WHERE action = 'annual_report_entry' ORDER BY id DESC LIMIT 1"
    )
    assert row is not None and row["actor_id"] == "maya.manager"
    assert text not in str(row["after"]) and row["after"]["section"] == "self_assessment"
    assert row["after"]["text"]["chars"] == len(text)
