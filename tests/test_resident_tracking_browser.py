"""Following a complaint in Chromium, at phone and desktop width (issue 30): signing in with the short code as
someone would type it after hearing it read out, the council's extension question (and only then), axe-core
on each page. `RESIDENT_SCREENSHOTS=docs pytest tests/test_resident_tracking_browser.py` refreshes the
README's pictures of the resident pages. Every wait is bounded (Playwright's timeout below), so a page that
never comes fails the test instead of hanging it."""

from __future__ import annotations

import os
from datetime import timedelta

import httpx
from playwright.async_api import Page, ViewportSize

from domain import commands as cmd
from tests.factories import INVESTIGATOR, OFFICER
from tests.test_resident_browser import Site, assert_no_axe_violations, new_email, pytestmark, site
from tests.test_resident_journeys_browser import no_sideways_scrolling

__all__ = ["pytestmark", "site"]  # the skip when chromium is missing, and the fixture

PHONE = ViewportSize(width=375, height=812)
DESKTOP = ViewportSize(width=1100, height=900)
WAIT_MS = 20_000


async def screenshot(page: Page, name: str) -> None:
    """Saved only when asked (`RESIDENT_SCREENSHOTS=docs`): the README's pictures, kept small (the visible
    part of the page, not the whole of it)."""
    folder = os.environ.get("RESIDENT_SCREENSHOTS")
    if folder:
        await page.screenshot(path=os.path.join(folder, name), full_page=False)


async def made_through_the_api(site: Site) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=site.base, timeout=30) as client:
        made = await client.post(
            "/api/public/complaints",
            json={
                "policy_id": "bexley",
                "name": "Ada Resident",
                "email": new_email(),
                "service_area": "housing-repairs",
                "summary": "Damp in the bedroom, reported three times since September and not fixed.",
                "desired_outcome": "Fix the damp and check the other rooms.",
            },
        )
    assert made.status_code == 201, made.text
    return str(made.json()["reference"]), str(made.json()["access_token"])


async def test_sign_in_with_a_read_out_code_and_answer_the_councils_question(site: Site) -> None:
    reference, code = await made_through_the_api(site)
    for viewport, suffix in ((PHONE, "phone"), (DESKTOP, "desktop")):
        context = await site.browser.new_context(base_url=site.base, viewport=viewport)
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        try:
            # Typed as heard: small letters, spaces for the dashes.
            await page.goto("/complaint/track")
            await page.get_by_label("Complaint reference").fill(reference.lower())
            await page.get_by_label("Access code").fill(code.lower().replace("-", " "))
            await assert_no_axe_violations(page, f"sign-in at {suffix} width")
            await no_sideways_scrolling(page, "sign-in")
            if suffix == "desktop":
                await screenshot(page, "resident-sign-in.png")
            await page.get_by_role("button", name="Continue").click()
            assert await page.get_by_role("heading", name=f"Your complaint {reference}").is_visible()
            assert await page.get_by_role("heading", name="Can we send our response later?").count() == 0
        finally:
            await context.close()

    # The council asks; the question appears, with its reason and date, then goes once answered.
    await site.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await site.staff(reference, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    respond_by = await site.pool.fetchval("SELECT respond_by FROM complaints WHERE reference = $1", reference)
    up_to = respond_by + timedelta(days=21)
    reason = "The contractor's damp survey is booked for the week after our response date."
    ask = cmd.AskExtensionAgreement(actor=INVESTIGATOR, up_to=up_to, reason=reason)
    await site.staff(reference, "ask_extension_agreement", ask)

    context = await site.browser.new_context(base_url=site.base, viewport=PHONE)
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    try:
        await page.goto("/complaint/track")
        await page.get_by_label("Complaint reference").fill(reference)
        await page.get_by_label("Access code").fill(code.replace("-", ""))
        await page.get_by_role("button", name="Continue").click()
        heading = page.get_by_role("heading", name="Can we send our response later?")
        assert await heading.is_visible()
        assert reason in await page.locator("#extension-question").inner_text()
        await assert_no_axe_violations(page, "complaint page with the extension question")
        await no_sideways_scrolling(page, "complaint page with the extension question")
        await heading.scroll_into_view_if_needed()
        await screenshot(page, "resident-extension-question.png")

        await page.locator("#agreed").check()
        await page.locator("#up_to-day").fill(str(up_to.day))
        await page.locator("#up_to-month").fill(str(up_to.month))
        await page.locator("#up_to-year").fill(str(up_to.year))
        await page.get_by_role("button", name="Send answer").click()
        assert (await page.locator("#result").inner_text()) == "Thank you. We have recorded your answer."
        assert await page.get_by_role("heading", name="Can we send our response later?").count() == 0
        await page.set_viewport_size(DESKTOP)
        await page.evaluate("window.scrollTo(0, 0)")
        await screenshot(page, "resident-complaint.png")
    finally:
        await context.close()
