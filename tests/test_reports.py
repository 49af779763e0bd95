"""Reports: the facts per stage in the read model and the figures computed from them, checked against the
known set of tests/report_scenario.py (hand-worked expectations in each test)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.routes.reports import today
from cli.main import main
from core.services import Services
from core.settings import Settings
from domain.policy import Policy
from reporting.files import write_reports
from tests.api_helpers import assert_problem, bearer, settings_for
from tests.factories import running_worker
from tests.report_scenario import KnownSet, build_known_set, report_policies, stage_rows


async def test_each_stage_keeps_the_facts_reports_count(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    policies, policy_id = report_policies(policies)
    async with running_worker(temporal_env, pool, policies, task_queue):
        known = await build_known_set(temporal_env, task_queue, policies, policy_id)
        rows = await stage_rows(pool, known)
    day = known.day
    assert sorted(rows) == [("A", 1), ("B", 1), ("B", 2), ("C", 1), ("D", 1), ("E", 1)]
    a, b1, b2, c, d, e = (rows[key] for key in sorted(rows))

    assert (a["received_on"], a["acknowledge_by"], a["acknowledged_on"]) == (known.monday, day(2), day(1))
    assert (a["original_respond_by"], a["respond_by_when_answered"], a["responded_on"]) == (
        day(15),
        day(15),
        day(3),
    )
    assert (a["working_days_to_respond"], a["outcome"], a["ended"]) == (3, "upheld", None)
    assert (a["remedy_count"], a["compensation_pence"]) == (2, 15_000)
    assert [remedy["kind"] for remedy in a["remedies"]] == ["apology", "financial_redress"]

    # Late acknowledgement (day 3, due day 2); Stage 1 ended by the Stage 2 request, not closed.
    assert (b1["acknowledged_on"], b1["acknowledge_by"], b1["ended"], b1["closed_on"]) == (
        day(3),
        day(2),
        None,
        None,
    )
    # Stage 2: received when asked for, due 15 working days later, answered by a reviewer (independent).
    assert (b2["received_on"], b2["acknowledge_by"], b2["acknowledged_on"]) == (day(5), day(7), day(6))
    assert (b2["original_respond_by"], b2["responded_on"], b2["working_days_to_respond"]) == (
        day(20),
        day(8),
        3,
    )
    assert (b2["outcome"], b2["ended"], b2["closed_on"], b2["independent_reviewer"]) == (
        "partially_upheld",
        "closed",
        day(8),
        True,
    )

    # Extended by 5 working days (15 -> 20), answered on day 18: on time, but not within the original date.
    assert (c["extensions"], c["extension_working_days"], c["extended_with_agreement"]) == (1, 5, False)
    assert (c["original_respond_by"], c["respond_by"], c["respond_by_when_answered"]) == (
        day(15),
        day(20),
        day(20),
    )
    assert (c["responded_on"], c["working_days_to_respond"]) == (day(18), 18)

    # On the Code's clock (CH02): acknowledge by day 5; answer 10 working days from the acknowledgement
    # (Stage 2: 20), plus extensions up to the Code's limit. C, answered on day 18 within the council's
    # extended date (day 20), was late on the Code's (day 1 + 10 + 5 = day 16).
    code = {key: (row["code_acknowledge_by"], row["code_respond_by"]) for key, row in rows.items()}
    assert code == {
        ("A", 1): (day(5), day(11)),
        ("B", 1): (day(5), day(13)),  # acknowledged day 3
        ("B", 2): (day(10), day(26)),  # asked for on day 5, acknowledged day 6
        ("C", 1): (day(5), day(16)),
        ("D", 1): (day(5), day(15)),  # never acknowledged: from the day it was due
        ("E", 1): (day(5), day(11)),
    }
    assert {key: row["tenure"] for key, row in rows.items()} == {
        ("A", 1): "low_cost_rental",
        ("B", 1): "low_cost_rental",
        ("B", 2): "low_cost_rental",
        ("C", 1): "low_cost_home_ownership",
        ("D", 1): None,
        ("E", 1): "leaseholder",
    }

    assert (d["ended"], d["exclusion"], d["closed_on"], d["acknowledged_on"]) == (
        "declined",
        "service-request",
        day(1),
        None,
    )
    assert (e["ended"], e["closed_on"], e["responded_on"]) == ("withdrawn", day(2), None)

    # Complaint-wide facts ride on every stage row; the latest stage's row is up to date.
    def case(row: asyncpg.Record) -> tuple[object, ...]:
        names = (
            "actions_promised",
            "actions_done",
            "actions_overdue",
            "ombudsman_referred_on",
            "ombudsman_decision",
        )
        return tuple(row[name] for name in names)

    assert case(a) == (1, 0, 0, None, None)
    assert case(c) == (1, 1, 0, None, None)
    assert case(b1) == (0, 0, 0, None, None)  # as it stood when Stage 1 ended
    assert case(b2) == (0, 0, 0, day(9), "lgsco:fault_causing_injustice+complaint_handling_failure")


@pytest.fixture
async def report_api(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, KnownSet]]:
    """The API over the known set (its worker runs the complaints), as the report tests read it."""
    policies, policy_id = report_policies(policies)
    settings = settings_for(task_queue)
    services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
    app = create_app(settings, services)
    async with running_worker(temporal_env, pool, policies, task_queue):
        known = await build_known_set(temporal_env, task_queue, policies, policy_id)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, settings, known


def _zero_stage() -> dict[str, Any]:
    return {
        "received": 0,
        "declined": 0,
        "withdrawn": 0,
        "acknowledged": 0,
        "acknowledged_on_time": 0,
        "responded": 0,
        "responded_on_time": 0,
        "responded_within_original_deadline": 0,
        "responded_on_time_percent": None,
        "extended": 0,
        "median_working_days_to_respond": None,
        "p90_working_days_to_respond": None,
        "outcomes": {},
    }


def _breakdown(figures: dict[str, Any]) -> dict[str, Any]:
    """A breakdown's figures (by service area or month): all but the outcomes and percentiles."""
    total_only = ("outcomes", "median_working_days_to_respond", "p90_working_days_to_respond")
    return {key: value for key, value in figures.items() if key not in total_only}


# Stage 1 of the known set: A, B, C, D, E received; D declined, E withdrawn; A, C, E acknowledged on time
# and B late; A (day 3), B (day 4) and C (day 18, extended to day 20 from day 15) answered, all in time,
# two within the first date. Working days to respond 3, 4, 18: median 4, 90th percentile 4 + 0.8 x 14 = 15.2.
STAGE_1 = {
    "received": 5,
    "declined": 1,
    "withdrawn": 1,
    "acknowledged": 4,
    "acknowledged_on_time": 3,
    "responded": 3,
    "responded_on_time": 3,
    "responded_within_original_deadline": 2,
    "responded_on_time_percent": 100.0,
    "extended": 1,
    "median_working_days_to_respond": 4.0,
    "p90_working_days_to_respond": 15.2,
    "outcomes": {"upheld": 1, "not_upheld": 1, "partially_upheld": 1},
}
# Stage 2: B, asked for on day 5, acknowledged day 6 (due day 7), answered day 8 (3 working days).
STAGE_2 = {
    **_zero_stage(),
    "received": 1,
    "acknowledged": 1,
    "acknowledged_on_time": 1,
    "responded": 1,
    "responded_on_time": 1,
    "responded_within_original_deadline": 1,
    "responded_on_time_percent": 100.0,
    "median_working_days_to_respond": 3.0,
    "p90_working_days_to_respond": 3.0,
    "outcomes": {"partially_upheld": 1},
}


def _tenure(homes: int | None, stage1: int, stage2: int) -> dict[str, Any]:
    rate = (lambda count: round(1000 * count / homes, 2)) if homes else (lambda count: None)
    return {
        "homes": homes,
        "stage1_received": stage1,
        "stage1_per_1000_homes": rate(stage1),
        "stage2_received": stage2,
        "stage2_per_1000_homes": rate(stage2),
    }


# The Regulator's measures. CH01: 5 and 1 complaints per 2,000 homes; low-cost rental A and B (B also at
# Stage 2) per 1,000 such homes, low-cost home ownership C per 500. CH02 on the Code's clock: A (day 3, due
# day 11) and B (day 4, due day 13) within it, C (day 18, due day 16) not, though on time by the council's
# extended date (day 20); B's Stage 2 (day 8, due day 26) within it. Every acknowledgement within 5 days.
TSM = {
    "homes_owned": 2000,
    "timescales": {
        "stage1": {
            "acknowledge_working_days": 5,
            "respond_working_days_from_acknowledgement": 10,
            "extension_up_to_working_days": 10,
        },
        "stage2": {
            "acknowledge_working_days": 5,
            "respond_working_days_from_acknowledgement": 20,
            "extension_up_to_working_days": 20,
        },
    },
    "ch01": {
        "stage1_received": 5,
        "stage1_per_1000_homes": 2.5,
        "stage2_received": 1,
        "stage2_per_1000_homes": 0.5,
        "by_tenure": {
            "low_cost_rental": _tenure(1000, 2, 1),
            "low_cost_home_ownership": _tenure(500, 1, 0),
            "leaseholder": _tenure(None, 1, 0),
            "other": _tenure(None, 0, 0),
            "not_a_tenant": _tenure(None, 0, 0),
            "not_recorded": _tenure(None, 1, 0),
        },
    },
    "ch02": {
        "stage1_responded": 3,
        "stage1_within_code": 2,
        "stage1_within_code_percent": 66.7,
        "stage1_acknowledged": 4,
        "stage1_acknowledged_within_code": 4,
        "stage2_responded": 1,
        "stage2_within_code": 1,
        "stage2_within_code_percent": 100.0,
        "stage2_acknowledged": 1,
        "stage2_acknowledged_within_code": 1,
    },
}


async def test_performance_figures_match_the_hand_worked_ones(
    report_api: tuple[httpx.AsyncClient, Settings, KnownSet],
) -> None:
    client, settings, known = report_api
    period = {"from": known.monday.isoformat(), "to": known.day(40).isoformat(), "policy_id": known.policy_id}
    response = await client.get(
        "/api/reports/performance", params=period, headers=bearer("maya.manager", settings)
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["stage1"] == STAGE_1
    assert report["stage2"] == STAGE_2
    assert report["escalation_rate_percent"] == 33.3  # B of the three answered
    assert report["per_1000_homes"] == {"stage1": 2.5, "stage2": 0.5}  # 5 and 1 per 2,000 homes
    assert report["remedies"] == {"count": 2, "compensation_pence": 15_000}  # A's apology and redress
    assert report["actions"] == {"promised": 2, "done": 1, "overdue": 0}  # A's open, C's done
    # B's decision, by the LGSCO's determination, with a finding of complaint-handling failure.
    assert report["ombudsman"] == {
        "referrals": 1,
        "decisions": 1,
        "determinations": {"lgsco": {"fault_causing_injustice": 1}},
        "complaint_handling_failures": 1,
    }
    assert report["tsm"] == TSM

    areas = {entry["service_area"]: entry for entry in report["by_service_area"]}
    assert sorted(areas) == ["housing-repairs", "parking", "waste"]
    assert (
        areas["housing-repairs"]["stage1"]["received"],
        areas["housing-repairs"]["stage2"]["received"],
    ) == (2, 1)
    assert areas["housing-repairs"]["stage1"]["acknowledged_on_time"] == 1  # B was late
    # Breakdowns have every figure but the outcomes and the percentiles.
    assert areas["waste"]["stage1"] == _breakdown(
        {
            **_zero_stage(),
            "received": 2,
            "declined": 1,
            "acknowledged": 1,
            "acknowledged_on_time": 1,
            "responded": 1,
            "responded_on_time": 1,
            "responded_on_time_percent": 100.0,
            "extended": 1,
        }
    )
    assert areas["parking"]["stage1"]["withdrawn"] == 1
    assert areas["parking"]["stage2"] == _breakdown(_zero_stage())

    months: dict[str, list[int]] = {}
    for number, received_on in ((1, known.monday), (2, known.day(5))):
        months.setdefault(received_on.strftime("%Y-%m"), [0, 0])[number - 1] += 5 if number == 1 else 1
    assert {
        entry["month"]: [entry["stage1"]["received"], entry["stage2"]["received"]]
        for entry in report["by_month"]
    } == months


async def test_a_period_and_a_service_area_narrow_the_figures(
    report_api: tuple[httpx.AsyncClient, Settings, KnownSet],
) -> None:
    client, settings, known = report_api
    headers = bearer("aude.auditor", settings)
    only_monday = {
        "from": known.monday.isoformat(),
        "to": known.monday.isoformat(),
        "policy_id": known.policy_id,
    }
    report = (await client.get("/api/reports/performance", params=only_monday, headers=headers)).json()
    # Stage 2 was asked for on day 5: outside the period; B still counts as escalated from this period.
    assert report["stage1"] == STAGE_1 and report["stage2"] == _zero_stage()
    assert report["escalation_rate_percent"] == 33.3
    assert report["per_1000_homes"] == {"stage1": 2.5, "stage2": 0.0}

    waste = {**only_monday, "service_area": "waste"}
    report = (await client.get("/api/reports/performance", params=waste, headers=headers)).json()
    assert (report["stage1"]["received"], report["stage1"]["declined"], report["stage1"]["extended"]) == (
        2,
        1,
        1,
    )
    assert report["escalation_rate_percent"] == 0.0 and report["remedies"]["count"] == 0

    # Without a council, complaints of every council count and there is no homes figure.
    across = {"from": known.monday.isoformat(), "to": known.monday.isoformat(), "service_area": "parking"}
    report = (await client.get("/api/reports/performance", params=across, headers=headers)).json()
    assert report["per_1000_homes"] == {"stage1": None, "stage2": None}
    assert report["tsm"]["ch01"]["stage1_per_1000_homes"] is None

    # Homes owned given with the report win over the policy's: 5 per 4,000 homes, 2 per 400 low-cost rental.
    homes = {**only_monday, "homes_owned": "4000", "homes_low_cost_rental": "400"}
    report = (await client.get("/api/reports/performance", params=homes, headers=headers)).json()
    ch01 = report["tsm"]["ch01"]
    assert (ch01["stage1_per_1000_homes"], report["per_1000_homes"]["stage1"]) == (1.25, 1.25)
    assert ch01["by_tenure"]["low_cost_rental"] == _tenure(400, 2, 0)
    assert ch01["by_tenure"]["low_cost_home_ownership"] == _tenure(500, 1, 0)  # the policy's
    assert report["tsm"]["ch02"]["stage1_within_code_percent"] == 66.7


async def test_the_performance_csv_has_every_figure(
    report_api: tuple[httpx.AsyncClient, Settings, KnownSet],
) -> None:
    client, settings, known = report_api
    params = {"from": known.monday.isoformat(), "to": known.day(40).isoformat(), "policy_id": known.policy_id}
    headers = bearer("adam.admin", settings)
    response = await client.get(
        "/api/reports/performance", params={**params, "format": "csv"}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["section", "key", "stage", "measure", "value"]
    assert ["total", "", "stage1", "received", "5"] in rows
    assert ["total", "", "stage1", "p90_working_days_to_respond", "15.2"] in rows
    assert ["total", "", "stage2", "outcome:partially_upheld", "1"] in rows
    assert ["total", "", "", "remedies_compensation_pence", "15000"] in rows
    assert ["ombudsman_determination", "lgsco:fault_causing_injustice", "", "decisions", "1"] in rows
    assert ["total", "", "", "ombudsman_complaint_handling_failures", "1"] in rows
    assert ["service_area", "waste", "stage1", "extended", "1"] in rows
    assert ["service_area", "parking", "stage2", "responded_on_time_percent", ""] in rows
    # The Regulator's measures, with the Code's timescales they were counted against.
    assert ["tsm", "code_timescale", "stage1", "respond_working_days_from_acknowledgement", "10"] in rows
    assert ["tsm", "code_timescale", "stage2", "respond_working_days_from_acknowledgement", "20"] in rows
    assert ["tsm", "ch02", "stage1", "within_code_percent", "66.7"] in rows
    assert ["tsm", "ch01", "stage2", "per_1000_homes", "0.5"] in rows
    assert ["tsm", "ch01:low_cost_home_ownership", "stage1", "per_1000_homes", "2.0"] in rows
    assert ["tsm", "ch01:low_cost_rental", "", "homes", "1000"] in rows


async def test_reports_are_for_managers_auditors_and_admins_and_refuse_bad_periods(
    report_api: tuple[httpx.AsyncClient, Settings, KnownSet],
) -> None:
    client, settings, known = report_api
    period = {"from": known.monday.isoformat(), "to": known.day(40).isoformat()}
    for user in ("olivia.officer", "ian.investigator", "rita.reviewer"):
        response = await client.get("/api/reports/performance", params=period, headers=bearer(user, settings))
        assert_problem(response, 403, "may not reports")
    headers = bearer("maya.manager", settings)
    backwards = {"from": known.day(5).isoformat(), "to": known.monday.isoformat()}
    assert_problem(
        await client.get("/api/reports/performance", params=backwards, headers=headers), 422, "to:"
    )
    unknown = {**period, "policy_id": "atlantis"}
    assert_problem(
        await client.get("/api/reports/performance", params=unknown, headers=headers), 422, "atlantis"
    )
    assert_problem(
        await client.get("/api/reports/performance", params={"to": "2027-01-01"}, headers=headers), 422
    )
    bad_format = {**period, "format": "xlsx"}
    assert_problem(await client.get("/api/reports/performance", params=bad_format, headers=headers), 422)
    assert_problem(await client.get("/api/reports/performance", params=period), 401)


async def test_the_self_assessment_gives_the_years_evidence_per_provision(
    report_api: tuple[httpx.AsyncClient, Settings, KnownSet],
) -> None:
    client, settings, known = report_api
    year = known.monday.year if known.monday.month >= 4 else known.monday.year - 1
    params = {"policy_id": known.policy_id, "year": str(year)}
    headers = bearer("aude.auditor", settings)
    response = await client.get("/api/reports/self-assessment", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assessment = response.json()
    assert assessment["from"] == f"{year}-04-01" and assessment["to"] == f"{year + 1}-03-31"
    rows = {row["section"]: row for row in assessment["provisions"]}
    assert list(rows) == ["3", "6.2", "6.3", "6.4", "6.11", "6.12", "6.13", "6.14", "6.15", "7", "8"]
    assert rows["3"]["evidence"] == "1 of 5 complaints declined (service-request: 1)."
    assert rows["6.2"]["evidence"] == "Acknowledged on time: 3 of 4 (75.0%)."  # B was late
    assert "2 working days from receipt" in rows["6.2"]["service"]  # Bexley's window, not the Code's 5
    assert rows["6.3"]["evidence"] == (
        "Answered on time: 3 of 3 (100.0%); by the first date given: 2 of 3 (66.7%)."  # C was extended
    )
    assert rows["6.4"]["figures"] == {"extended": 1, "beyond_limit": 0, "beyond_limit_agreed": 0}
    assert rows["6.12"]["figures"] == {"stage2_received": 1, "escalation_rate_percent": 33.3}
    assert rows["6.13"]["evidence"] == "Answered by someone other than Stage 1's responder: 1 of 1 (100.0%)."
    assert rows["6.14"]["figures"] == {"responded": 1, "on_time": 1}
    assert rows["7"]["evidence"] == "2 remedies, £150.00 redress; actions: 2 promised, 1 done, 0 overdue."

    html = await client.get(
        "/api/reports/self-assessment", params={**params, "format": "html"}, headers=headers
    )
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.text.count("<tr>") == 12  # the header and one row per provision
    assert "Acknowledged on time: 3 of 4 (75.0%)." in html.text

    officer = bearer("olivia.officer", settings)
    assert_problem(await client.get("/api/reports/self-assessment", params=params, headers=officer), 403)
    no_policy = {"year": str(year)}
    assert_problem(await client.get("/api/reports/self-assessment", params=no_policy, headers=headers), 422)


async def test_the_report_files_are_what_the_api_answers(
    report_api: tuple[httpx.AsyncClient, Settings, KnownSet], pool: asyncpg.Pool, tmp_path: Path
) -> None:
    client, settings, known = report_api
    year = known.monday.year if known.monday.month >= 4 else known.monday.year - 1
    policy = known.policy
    written = await write_reports(pool, out=tmp_path, year=year, policy=policy, generated_on=today())
    label = f"{year}-{(year + 1) % 100:02d}-{known.policy_id}"
    assert [path.name for path in written] == [
        f"complaints-performance-{year}-04-01-{year + 1}-03-31.csv",
        f"annual-report-{label}.html",
        f"self-assessment-{label}.html",
    ]
    headers = bearer("maya.manager", settings)
    period = {
        "from": f"{year}-04-01",
        "to": f"{year + 1}-03-31",
        "policy_id": known.policy_id,
        "format": "csv",
    }
    api_csv = await client.get("/api/reports/performance", params=period, headers=headers)
    assert written[0].read_text() == api_csv.text
    assert "total,,stage1,received,5" in api_csv.text.splitlines()
    annual = await client.get(
        "/api/reports/annual", params={"year": year, "policy_id": known.policy_id}, headers=headers
    )
    assert written[1].read_text() == annual.text
    # The year's learning themes: the root causes recorded with A's and C's responses (both upheld in part).
    themes = annual.text.split('id="learning-themes"')[1].split("</table>")[0]
    assert '<td>contractor</td><td class="n">1</td><td class="n">1</td>' in themes
    assert '<td>delay</td><td class="n">1</td><td class="n">1</td>' in themes
    assessment = await client.get(
        "/api/reports/self-assessment",
        params={"year": year, "policy_id": known.policy_id, "format": "html"},
        headers=headers,
    )
    assert written[2].read_text() == assessment.text


def test_the_report_command_writes_the_files(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command's wiring, on a year without complaints (the figures are checked above)."""
    code = main(
        [
            "report",
            "--year",
            "2090",
            "--policy",
            "bexley",
            "--out",
            str(tmp_path),
            "--database-url",
            database_url,
        ]
    )
    assert code == 0
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == [
        "annual-report-2090-91-bexley.html",
        "complaints-performance-2090-04-01-2091-03-31.csv",
        "self-assessment-2090-91-bexley.html",
    ]
    assert "total,,stage1,received,0" in (tmp_path / names[1]).read_text().splitlines()
    assert "London Borough of Bexley" in (tmp_path / names[0]).read_text()
    assert capsys.readouterr().out.count("wrote ") == 3
    assert main(["report", "--year", "1990", "--database-url", database_url]) == 2
