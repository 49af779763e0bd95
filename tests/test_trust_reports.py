"""Issue 29 (11): reports honour need-to-know: staff limited to service areas get figures of their own areas
only, and never the whole-council reports; complaints closed to the reader (conflicts) are left out."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from core.settings import Settings
from tests.api_helpers import assert_problem
from tests.test_need_to_know import token_with_claims
from tests.test_residents import Stack, make, settled, stack

__all__ = ["stack"]

PERIOD = {"from": "2026-04-01", "to": "2027-03-31"}


@pytest.fixture
async def declared(stack: Stack) -> AsyncIterator[list[tuple[str, str]]]:
    """The conflicts of interest a test declares, as (reference, staff id): removed when the test ends,
    passed or failed, so the demo staff it declares them for (maya.manager) read every complaint again in the
    next test (the database is shared by the session: a conflict left behind changed other files' figures)."""
    conflicts: list[tuple[str, str]] = []
    yield conflicts
    await stack.pool.executemany(
        "DELETE FROM staff_conflicts WHERE reference = $1 AND staff_id = $2", conflicts
    )


async def _declare(
    client: httpx.AsyncClient,
    declared: list[tuple[str, str]],
    reference: str,
    staff_id: str,
    headers: dict[str, str],
) -> None:
    """Declare `staff_id`'s conflict on `reference` through the API, noted first for the fixture to remove."""
    declared.append((reference, staff_id))
    answer = await client.post(f"/api/complaints/{reference}/conflict", headers=headers)
    assert answer.status_code == 201, answer.text


async def test_an_area_limited_manager_sees_only_their_areas_figures(stack: Stack) -> None:
    settings: Settings = stack.settings
    waste = token_with_claims("maya.manager", settings, service_areas=["waste"])
    two = token_with_claims("maya.manager", settings, service_areas=["waste", "parking"])
    async with stack.client() as client:
        url = "/api/reports/performance"
        own = await client.get(url, params=PERIOD, headers=waste)
        assert own.status_code == 200, own.text
        assert {entry["service_area"] for entry in own.json()["by_service_area"]} <= {"waste"}
        assert_problem(
            await client.get(url, params=PERIOD | {"service_area": "housing-repairs"}, headers=waste), 403
        )
        assert_problem(await client.get(url, params=PERIOD, headers=two), 403, "ask for one of them")
        assert (
            await client.get(url, params=PERIOD | {"service_area": "parking"}, headers=two)
        ).status_code == 200
        assert_problem(await client.get("/api/reports/annual", params={"year": 2026}, headers=waste), 403)
        assert_problem(
            await client.get(
                "/api/reports/self-assessment", params={"year": 2026, "policy_id": "bexley"}, headers=waste
            ),
            403,
        )
        everyone = token_with_claims("maya.manager", settings)
        assert (
            await client.get("/api/reports/annual", params={"year": 2026}, headers=everyone)
        ).status_code == 200


async def test_a_conflict_of_interest_leaves_the_complaint_out_of_the_readers_figures(
    stack: Stack, declared: list[tuple[str, str]]
) -> None:
    """Issue 29 (11): as the overdue digest does, the performance report leaves out the complaints closed to
    its reader (a declared conflict of interest): an area-limited manager's figures drop that complaint, and
    everyone else's are unchanged (the summaries less that complaint's own contribution)."""
    settings: Settings = stack.settings
    manager = token_with_claims("maya.manager", settings, service_areas=["waste"])
    auditor = token_with_claims("aude.auditor", settings)
    today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    period = {"from": today, "to": today, "policy_id": "bexley", "service_area": "waste"}
    url = "/api/reports/performance"

    async def received(headers: dict[str, str]) -> int:
        answer = await client.get(url, params=period, headers=headers)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["stage1"]["received"])

    async with stack.client() as client:
        references = [(await make(client, service_area="waste"))[0] for _ in range(2)]
        for reference in references:
            await settled(stack, reference)
        before, others_before = await received(manager), await received(auditor)
        assert before >= 2
        await _declare(client, declared, references[0], "maya.manager", manager)
        assert await received(manager) == before - 1
        assert await received(auditor) == others_before
        answer = await client.get(url, params=period, headers=manager)
        assert answer.json()["closed_to_reader_left_out"] is True
        assert answer.json()["by_service_area"][0]["stage1"]["received"] == before - 1
        csv = await client.get(url, params=period | {"format": "csv"}, headers=manager)
        assert csv.status_code == 200
        assert f"total,,stage1,received,{before - 1}" in csv.text.replace("\r", "")


def _financial_year(day: date) -> tuple[int, date, date]:
    year = day.year if day.month >= 4 else day.year - 1
    return year, date(year, 4, 1), date(year + 1, 3, 31)


async def test_every_report_leaves_out_the_complaints_closed_to_its_reader(
    stack: Stack, declared: list[tuple[str, str]]
) -> None:
    """Issue 29: the annual report, the self-assessment and the ombudsman's indicators leave out the
    complaints closed to their reader (a declared conflict of interest) as the performance report does, say
    so, and everyone else's figures are unchanged."""
    settings: Settings = stack.settings
    manager = token_with_claims("maya.manager", settings)
    auditor = token_with_claims("aude.auditor", settings)
    year, start, end = _financial_year(datetime.now(ZoneInfo("Europe/London")).date())
    scotland = {"policy_id": "scotland-model"}
    annual = ("/api/reports/annual", scotland | {"year": str(year)})
    assessment = ("/api/reports/self-assessment", scotland | {"year": str(year)})
    indicators = ("/api/reports/indicators", scotland | {"from": start.isoformat(), "to": end.isoformat()})

    async def get(report: tuple[str, dict[str, str]], headers: dict[str, str]) -> httpx.Response:
        answer = await client.get(report[0], params=report[1], headers=headers)
        assert answer.status_code == 200, answer.text
        return answer

    async def received(headers: dict[str, str]) -> tuple[int, int, int]:
        page = (await get(annual, headers)).text
        found = re.search(r"<td>Received \(declined ones included\)</td><td class=\"n\">(\d+)</td>", page)
        assert found, "no Stage 1 figure in the annual report"
        provisions = (await get(assessment, headers)).json()["provisions"]
        [in_assessment] = [
            p["figures"]["stage1_received"] for p in provisions if "stage1_received" in p["figures"]
        ]
        in_indicators = (await get(indicators, headers)).json()["indicators"]["stage1"]["received"]
        return int(found.group(1)), int(in_assessment), int(in_indicators)

    async with stack.client() as client:
        references = [(await make(client, policy_id="scotland-model"))[0] for _ in range(2)]
        for reference in references:
            await settled(stack, reference)
        before, others_before = await received(manager), await received(auditor)
        assert min(before) >= 2
        # Whether the auditor's own reports already leave something out (in the whole suite's shared
        # database another test may have closed a complaint to them): the manager's declaration changes
        # nothing of it.
        auditor_left_out = (await get(indicators, auditor)).json()["closed_to_reader_left_out"]
        await _declare(client, declared, references[0], "maya.manager", manager)
        assert await received(manager) == tuple(figure - 1 for figure in before)
        assert await received(auditor) == others_before
        assert 'id="left-out"' in (await get(annual, manager)).text
        assert ('id="left-out"' in (await get(annual, auditor)).text) is auditor_left_out
        assert (await get(assessment, manager)).json()["closed_to_reader_left_out"] is True
        assert (await get(indicators, manager)).json()["closed_to_reader_left_out"] is True
        assert (await get(indicators, auditor)).json()["closed_to_reader_left_out"] is auditor_left_out
        html = await get((assessment[0], assessment[1] | {"format": "html"}), manager)
        assert 'id="left-out"' in html.text
