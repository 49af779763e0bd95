"""Issue 25 and 28 in Chromium (Debian's, as tests/test_staff_browser.py): the letter's preview and its
Change and Send, the draft response approved by a manager, the early-resolution case page, the councils'
explanations and the reports, each page and error state checked with axe-core (zero violations)."""

from __future__ import annotations

import tomllib

import pytest
from playwright.async_api import Page

from domain.policy import Policy
from tests.test_early_resolution import POLICIES
from tests.test_staff_browser import Console, assert_no_axe_violations, console, sign_in

__all__ = ["console"]  # the fixture, imported so pytest finds it here
THREE_TIER = "bexley-three-tier-browser"
STEP = 20_000  # ms: a bound on every browser step (a busy machine), never a wait for time to pass


@pytest.fixture
def policies(policies: dict[str, Policy]) -> dict[str, Policy]:
    """Bexley asking for a manager's approval of responses, and a three-tier variant of it."""
    data = tomllib.loads((POLICIES / "bexley.toml").read_text(encoding="utf-8"))
    data["id"] = THREE_TIER
    data["early_resolution"] = {"handled_by": "The customer contact team", "resolve": {"amount": 5}}
    approving = policies["bexley"].model_copy(update={"response_approval": True})
    return {**policies, "bexley": approving, THREE_TIER: Policy.model_validate(data)}


async def new_page(console: Console) -> Page:
    page = await (await console.context(javascript=True)).new_page()
    page.set_default_timeout(STEP)
    return page


async def test_a_response_previewed_drafted_and_approved(console: Console) -> None:
    reference = await console.open_complaint(
        complainant={"name": "Ada Browserletter", "email": "a@example.org"}
    )
    await console.act(reference, "acknowledge", {})
    await console.act(reference, "assign", {"assignee": "ian.investigator"})
    page = await new_page(console)
    await sign_in(page, "ian.investigator")
    await page.goto(f"/staff/complaints/{reference}/act/respond")
    await page.get_by_label("Upheld", exact=True).check()
    await page.get_by_label("Findings").fill("The repair was booked late.")
    await page.get_by_role("button", name="Preview the letter").click()
    assert await page.get_by_role("heading", name="Check the letter before it is sent").is_visible()
    assert "Dear Ada Browserletter," in await page.locator("#letter-text-1").inner_text()
    await assert_no_axe_violations(page, "letter preview")
    await page.get_by_role("button", name="Change").click()
    assert await page.get_by_label("Findings").input_value() == "The repair was booked late."
    await page.get_by_role("button", name="Preview the letter").click()
    await page.get_by_role("button", name="Send").click()
    assert await page.locator("#draft-response").is_visible()
    await assert_no_axe_violations(page, "case with a draft response")
    await page.context.close()

    page = await new_page(console)
    await sign_in(page, "maya.manager")
    await page.goto(f"/staff/complaints/{reference}/act/approve-response")
    await assert_no_axe_violations(page, "approve response form")
    await page.get_by_role("button", name="Preview the letter").click()
    assert "The repair was booked late." in await page.locator("#letter-text-1").inner_text()
    await page.get_by_role("button", name="Send").click()
    assert await page.locator("#status").inner_text() == "Responded"
    await page.goto(f"/staff/complaints/{reference}/act/return-response")
    await assert_no_axe_violations(page, "return response refused")
    await page.context.close()


async def test_early_resolution_councils_and_reports_pages(console: Console) -> None:
    reference = await console.open_complaint(policy_id=THREE_TIER)
    page = await new_page(console)
    await sign_in(page, "maya.manager")
    await page.goto(f"/staff/complaints/{reference}")
    assert await page.locator("#early-resolution").is_visible()
    await assert_no_axe_violations(page, "case at early resolution")
    await page.goto(f"/staff/complaints/{reference}/act/resolve-early")
    await page.get_by_role("button", name="Preview the letter").click()
    assert (await page.title()).startswith("Error: ")
    await assert_no_axe_violations(page, "resolve early with errors")
    await page.goto("/staff/councils")
    await assert_no_axe_violations(page, "councils")
    await page.goto(f"/staff/councils/{THREE_TIER}?received=2027-03-17")
    assert "Early resolution" in await page.locator("#explanation").inner_text()
    await assert_no_axe_violations(page, "council explained")
    await page.goto(f"/staff/councils/{THREE_TIER}?received=2027-13-45")
    await assert_no_axe_violations(page, "council with a date error")
    await page.goto("/staff/dashboard")
    await page.locator("#reports-link").click()
    await assert_no_axe_violations(page, "reports")
    await page.goto("/staff/reports/annual?year=20x6")
    await assert_no_axe_violations(page, "report refused")
    await page.context.close()
