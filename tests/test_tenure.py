"""The complainant's tenure (for the Regulator's CH01 per tenure): optional, taken by the staff API, the
public API and the complaint form, shown on the case and copied to the stage rows reports count."""

from __future__ import annotations

import asyncio

import asyncpg

from core.settings import Settings
from tests.api_helpers import bearer, complaint_body
from tests.make_journey import answers, begin, make_on_pages
from tests.test_residents import Stack, make, new_email, stack

__all__ = ["stack"]  # the fixture, imported so pytest finds it here


async def _stage_tenure(pool: asyncpg.Pool, reference: str) -> str | None:
    """The Stage 1 row's tenure once the workflow's first event has written it."""
    for _ in range(250):
        row = await pool.fetchrow(
            "SELECT tenure FROM complaint_stages WHERE reference = $1 AND stage = 1", reference
        )
        if row is not None:
            return row["tenure"]  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no stage row for {reference}")


async def test_staff_residents_and_the_form_record_the_tenure(stack: Stack) -> None:
    app = stack.app_with()
    settings: Settings = app.state.services.settings
    officer = bearer("olivia.officer", settings)
    async with stack.client(app=app) as client:
        created = await client.post(
            "/api/complaints", json=complaint_body(tenure="low_cost_home_ownership"), headers=officer
        )
        assert created.status_code == 201, created.text
        reference = created.json()["reference"]
        case = await client.get(f"/api/complaints/{reference}", headers=officer)
        assert case.json()["tenure"] == "low_cost_home_ownership"
        assert await _stage_tenure(stack.pool, reference) == "low_cost_home_ownership"

        # Optional: none given is none recorded; a value outside the list is refused, naming the field.
        untold = await client.post("/api/complaints", json=complaint_body(), headers=officer)
        assert (await client.get(f"/api/complaints/{untold.json()['reference']}", headers=officer)).json()[
            "tenure"
        ] is None
        refused = await client.post("/api/complaints", json=complaint_body(tenure="owner"), headers=officer)
        assert refused.status_code == 422 and "tenure" in refused.text

        reference, _ = await make(client, tenure="leaseholder")
        assert await _stage_tenure(stack.pool, reference) == "leaseholder"

        await begin(client, "bexley")
        home = await client.get("/complaint/make/home")
        assert 'name="tenure"' in home.text and "I would rather not say" in home.text
        email = new_email()
        sent = await make_on_pages(
            client, answers(email=email, tenure="low_cost_rental", summary="Damp again.")
        )
        assert sent.status_code == 200 and "Complaint received" in sent.text
        tenure = await stack.pool.fetchval(
            "SELECT tenure FROM complaints WHERE complainant ->> 'email' = $1", email
        )
        assert tenure == "low_cost_rental"
        # "I would rather not say" sends an empty answer: the complaint is made without a tenure.
        other = new_email()
        sent = await make_on_pages(client, answers(email=other, tenure="", summary="Damp again."))
        assert sent.status_code == 200 and "Complaint received" in sent.text
        assert (
            await stack.pool.fetchval(
                "SELECT tenure FROM complaints WHERE complainant ->> 'email' = $1", other
            )
            is None
        )
