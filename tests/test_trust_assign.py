"""Issue 29 (4): a complaint is assigned only to known staff whose role may answer it at its stage and whom it
is not closed to (named in it, a declared conflict of interest); never to any text (an outside e-mail address
would receive the staff notices). A staff notice to someone it became closed to goes to the team."""

from __future__ import annotations

import asyncpg
import httpx

from core.settings import Settings
from domain.policy import Policy
from notifications.delivery import deliver_one
from tests.api_helpers import CapturingSender, api, assert_problem, bearer
from tests.test_api_complaints import create
from tests.test_delivery import add_notification, new_complaint

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
    assert_problem(refused, 409, "named in the complaint")  # the workflow's rule

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


async def test_a_staff_notice_to_someone_the_complaint_is_now_closed_to_goes_to_the_team(
    pool: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    """The investigator it was assigned to declares a conflict of interest (or is named in it): until a
    manager reassigns it, its staff notices (new information, adjustments) reach the complaints team, not
    them."""
    reference, workflow_id = await new_complaint(pool)
    await pool.execute(
        "INSERT INTO staff_conflicts (reference, staff_id) VALUES ($1, 'ines.investigator')", reference
    )
    await pool.execute(
        "UPDATE complaints SET staff_complained_about = '{ian.investigator}' WHERE reference = $1", reference
    )
    sender = CapturingSender()
    for index, (recipient, reaches) in enumerate(
        (
            ("ines.investigator", "complaints-team@council.example"),
            ("ian.investigator", "complaints-team@council.example"),
            ("olivia.officer", "olivia.officer@council.example"),
        )
    ):
        notice = await add_notification(
            pool,
            reference,
            workflow_id,
            index=index,
            template="assigned",
            audience="staff",
            recipient=recipient,
            context={"reference": reference, "stage": 1},
        )
        assert await deliver_one(pool, sender, policies, notice) == "sent"
        assert sender.messages[-1].to_address == reaches
