"""Policies and the deadline planner over HTTP; a new council's file is served and drives workflows."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.services import Services
from core.settings import REPO_ROOT, Settings
from domain import commands as cmd
from domain.models import Status
from domain.policy import Policy
from domain.policy_files import PolicyFileError, load_policies
from tests.api_helpers import api, assert_problem, settings_for
from tests.factories import (
    OFFICER,
    act,
    intake,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    state_of,
)
from tests.factories import weekdays_after as after

__all__ = ["api"]

Client = tuple[httpx.AsyncClient, Settings]


async def test_lists_every_shipped_policy(api: Client) -> None:
    client, _ = api
    listed = (await client.get("/api/policies")).json()
    assert [policy["id"] for policy in listed] == [
        "barking-dagenham",
        "bexley",
        "complaint-handling-code",
        "council-003",
        "council-004",
        "northern-ireland-model",
        "scotland-model",
        "wales-model",
        "westminster",
    ]
    one = (await client.get("/api/policies/bexley")).json()
    assert one["stages"][0]["respond"] == {"amount": 15, "unit": "working_days", "from": "receipt"}
    assert_problem(await client.get("/api/policies/atlantis"), 404, "no policy 'atlantis'")


async def test_the_console_gets_the_policy_in_plain_english(api: Client) -> None:
    # Issue 28: the same explanation as `complaints policy explain`, for the console's council page.
    client, _ = api
    response = await client.get("/api/policies/scotland-model/explanation?received=2026-11-28")
    assert response.status_code == 200
    sections = response.json()
    stage1 = next(section for section in sections if section["title"] == "Stage 1: Frontline resolution")
    # 30 November 2026 is St Andrew's Day: day 0 Tuesday 1 December, the 5th working day Tuesday 8 December.
    assert (
        "Answered within 5 working days from when the complaint was received. For a complaint received on"
        " Saturday 28 November 2026: by Tuesday 8 December 2026."
    ) in stage1["lines"]
    assert_problem(await client.get("/api/policies/atlantis/explanation"), 404, "no policy 'atlantis'")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Wed 23 Dec 2026 is day 0; Thu 24, [Fri 25 Christmas, Mon 28 Boxing Day substitute] Tue 29 = 2nd day.
        (
            "received=2026-12-23",
            {"acknowledge_by": "2026-12-29", "respond_by": "2027-01-18", "extension_limit_by": "2027-02-01"},
        ),
        # 23:30 UTC on a BST evening (Fri 5 June 2026) is Sat 6 June locally: day 0 moves to Mon 8 June.
        (
            "received=2026-06-05T23:30:00Z",
            {"acknowledge_by": "2026-06-10", "respond_by": "2026-06-29", "extension_limit_by": "2026-07-13"},
        ),
        # Responded Wed 1 July 2026: 20 working days later is Wed 29 July.
        (
            "received=2026-06-05T23:30:00Z&responded=2026-07-01",
            {"escalation_request_by": "2026-07-29"},
        ),
    ],
)
async def test_deadline_planner(api: Client, query: str, expected: dict[str, str]) -> None:
    client, _ = api
    response = await client.get(f"/api/policies/bexley/deadlines?{query}")
    assert response.status_code == 200, response.text
    plan = response.json()
    assert {key: plan[key] for key in expected} == expected


async def test_planner_assumes_acknowledgement_on_its_due_date(api: Client) -> None:
    client, _ = api
    # Barking: Mon 2 Nov 2026 + 5 working days = Mon 9 Nov acknowledgement; +10 from then = Mon 23 Nov.
    assumed = (await client.get("/api/policies/barking-dagenham/deadlines?received=2026-11-02")).json()
    assert (assumed["acknowledge_by"], assumed["respond_by"]) == ("2026-11-09", "2026-11-23")
    # Acknowledged early, on Tue 3 Nov: the response is due 10 working days after, Tue 17 Nov.
    early = (
        await client.get(
            "/api/policies/barking-dagenham/deadlines?received=2026-11-02&acknowledged=2026-11-03"
        )
    ).json()
    assert early["respond_by"] == "2026-11-17"
    # Acknowledged late, on Fri 20 Nov: a late acknowledgement buys no time, as in the complaint itself
    # (issue 24): still 10 working days from Mon 9 Nov, Mon 23 Nov (not Fri 4 Dec).
    late = (
        await client.get(
            "/api/policies/barking-dagenham/deadlines?received=2026-11-02&acknowledged=2026-11-20"
        )
    ).json()
    assert late["respond_by"] == "2026-11-23"
    # Barking's review request window is 28 calendar days: responded 17 Nov -> 15 Dec.
    window = (
        await client.get("/api/policies/barking-dagenham/deadlines?received=2026-11-02&responded=2026-11-17")
    ).json()
    assert window["escalation_request_by"] == "2026-12-15"


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/api/policies/atlantis/deadlines?received=2026-12-23", 404, "no policy"),
        ("/api/policies/bexley/deadlines?received=23/12/2026", 422, "received"),
        ("/api/policies/bexley/deadlines", 422, "received"),
        ("/api/policies/bexley/deadlines?received=2026-12-23&stage=3", 422, "stage"),
        ("/api/policies/bexley/deadlines?received=2026-12-23T10:00:00", 422, "timezone"),
        ("/api/policies/bexley/deadlines?received=2026-12-23&acknowledged=yesterday", 422, "acknowledged"),
    ],
)
async def test_planner_errors(api: Client, path: str, status: int, detail: str) -> None:
    client, _ = api
    assert_problem(await client.get(path), status, detail)


NEW_COUNCIL = """
id = "hartlepool"
name = "Hartlepool Borough Council (example)"
source = "written for this test from a published two-stage procedure"
nation = "england-and-wales"
clock_stops_for_information = false
reminder_offsets_working_days = [2]

[time_limit]
months = 12

[ombudsman]
body = "lgsco"
signposting = "Contact the Local Government and Social Care Ombudsman."

[complainants]
anonymous_allowed = false

[[stages]]
number = 1
name = "Stage 1"
investigated_by = "Head of Service"
acknowledge = { amount = 3, unit = "working_days", from = "receipt" }
respond = { amount = 12, unit = "working_days", from = "receipt" }
extension = { officer_limit_working_days = 5 }
escalation_request = { amount = 1, unit = "calendar_months", from = "response" }

[[stages]]
number = 2
name = "Stage 2"
investigated_by = "Director"
acknowledge = { amount = 3, unit = "working_days", from = "escalation_request" }
respond = { amount = 25, unit = "working_days", from = "escalation_request" }
extension = { officer_limit_working_days = 10 }
"""


async def test_a_new_council_file_is_served_and_drives_workflows_after_a_restart(
    tmp_path: Path, temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, task_queue: str
) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(REPO_ROOT / "policies", folder)
    (folder / "hartlepool.toml").write_text(NEW_COUNCIL)
    # "Restart": the service loads its policy folder at start-up, exactly as the API and the worker do.
    policies = load_policies(folder)
    settings = settings_for(task_queue).model_copy(update={"policies_dir": folder})
    app = create_app(
        settings, Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        served = await client.get("/api/policies/hartlepool")
        assert served.status_code == 200
        plan = (await client.get("/api/policies/hartlepool/deadlines?received=2026-12-23")).json()
        # Wed 23 Dec: Thu 24, Tue 29, Wed 30 -> 3rd working day.
        assert plan["acknowledge_by"] == "2026-12-30"

    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(temporal_env, task_queue, intake("hartlepool", received))
        state = await state_of(handle)
        assert state.current.plan.acknowledge.on == after(received.date(), 3)
        assert state.current.respond_by == after(received.date(), 12)
        state = await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        assert state.status is Status.ACKNOWLEDGED


def test_the_service_refuses_to_start_on_an_invalid_policy_file(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "policies", tmp_path / "policies")
    (tmp_path / "policies" / "broken.toml").write_text(
        'id = "broken"\nname = "Broken"\nnation = "cornwall"\n'
    )
    with pytest.raises(PolicyFileError) as raised:
        load_policies(tmp_path / "policies")
    assert "broken.toml" in str(raised.value)
    assert "nation" in str(raised.value)


def test_shipped_policies_are_the_ones_the_fixture_loads(policies: dict[str, Policy]) -> None:
    assert set(policies) == {path.stem for path in (REPO_ROOT / "policies").glob("*.toml")}
