"""Issue 29 (11): reports honour need-to-know: staff limited to service areas get figures of their own areas
only, and never the whole-council reports."""

from __future__ import annotations

from core.settings import Settings
from tests.api_helpers import assert_problem
from tests.test_need_to_know import token_with_claims
from tests.test_residents import Stack, stack

__all__ = ["stack"]

PERIOD = {"from": "2026-04-01", "to": "2027-03-31"}


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
