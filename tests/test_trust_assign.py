"""Issue 29 (4): a complaint is assigned only to known staff whose role may answer it at its stage; never to
any text (an outside e-mail address would receive the staff notices)."""

from __future__ import annotations

import httpx

from core.settings import Settings
from tests.api_helpers import api, assert_problem, bearer
from tests.test_api_complaints import create

__all__ = ["api"]

Client = tuple[httpx.AsyncClient, Settings]


async def test_an_outside_address_or_a_wrong_role_cannot_be_assigned(api: Client) -> None:
    client, settings = api
    reference = (await create(client, settings))["reference"]
    officer = bearer("olivia.officer", settings)

    async def assign(assignee: str) -> httpx.Response:
        return await client.post(
            f"/api/complaints/{reference}/assign", json={"assignee": assignee}, headers=officer
        )

    assert_problem(await assign("attacker@evil.example"), 422, "not a known staff member")
    assert_problem(await assign("aude.auditor"), 422, "auditor cannot answer")
    assert_problem(await assign("rita.reviewer"), 422, "reviewer cannot answer a complaint at stage 1")
    outbox = await client.get(f"/api/complaints/{reference}", headers=officer)
    assert all("evil.example" not in str(n) for n in outbox.json()["notifications"])
    assigned = await assign("ian.investigator")
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assigned_to"] == "ian.investigator"


async def test_nobody_the_complaint_is_closed_to_can_be_assigned_it(api: Client) -> None:
    """A complaint about a member of staff, or one they declared a conflict of interest on, is closed to
    them: assigning it to them would send them its staff notices (adjustments, new information)."""
    client, settings = api
    officer = bearer("olivia.officer", settings)
    about_ian = (await create(client, settings, staff_complained_about=["ian.investigator"]))["reference"]
    refused = await client.post(
        f"/api/complaints/{about_ian}/assign", json={"assignee": "ian.investigator"}, headers=officer
    )
    assert_problem(refused, 422, "it is about them, or they declared a conflict of interest")

    reference = (await create(client, settings))["reference"]
    declared = await client.post(
        f"/api/complaints/{reference}/conflict", headers=bearer("ines.investigator", settings)
    )
    assert declared.status_code == 201, declared.text
    refused = await client.post(
        f"/api/complaints/{reference}/assign", json={"assignee": "ines.investigator"}, headers=officer
    )
    assert_problem(refused, 422, "may not deal with this complaint")
    case = (await client.get(f"/api/complaints/{reference}", headers=officer)).json()
    assert case["assigned_to"] is None
    assigned = await client.post(
        f"/api/complaints/{reference}/assign", json={"assignee": "ian.investigator"}, headers=officer
    )
    assert assigned.status_code == 200, assigned.text
