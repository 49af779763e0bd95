"""The complaint page's journeys in Chromium (issue 30): an open question answered from the top of the page,
the letters read in full, withdrawing through its confirmation, and a signed-out visit, at phone width
(320 px: no sideways scrolling, WCAG 1.4.10) and desktop width, with axe-core finding nothing on any page or
error."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.async_api import Page, ViewportSize

from domain import commands as cmd
from tests.factories import INVESTIGATOR, OFFICER
from tests.test_resident_browser import (
    Site,
    assert_no_axe_violations,
    make_complaint,
    new_email,
    pytestmark,
    site,
    track,
)

__all__ = ["pytestmark", "site"]  # the skip when chromium is missing, and the fixture

QUESTION = "Please send photos of the damp and the dates you reported it."
PHONE = ViewportSize(width=320, height=640)
DESKTOP = ViewportSize(width=1200, height=900)


async def no_sideways_scrolling(page: Page, what: str) -> None:
    # Every letter opened: their text is the widest thing on the page.
    await page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    wide: bool = await page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    assert not wide, f"{what} scrolls sideways at {page.viewport_size}"


async def test_question_letters_and_withdrawal_at_phone_and_desktop_width(site: Site) -> None:
    for viewport in (PHONE, DESKTOP):
        browser = await site.browser.new_context(base_url=site.base, viewport=viewport)
        page = await browser.new_page()
        reference, token = await make_complaint(page, "Ada Resident", new_email())
        await site.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await site.staff(reference, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        await site.staff(
            reference, "request_information", cmd.RequestInformation(actor=INVESTIGATOR, request=QUESTION)
        )
        ask = cmd.AskExtensionAgreement(
            actor=INVESTIGATOR, up_to=date.today() + timedelta(days=400), reason="The survey is in March."
        )
        await site.staff(reference, "ask_extension_agreement", ask)
        await track(page, reference, token)

        # The question first, with its answer box.
        assert await page.get_by_role("heading", name="We need more information from you").is_visible()
        assert QUESTION in await page.locator("#open-question").inner_text()
        await assert_no_axe_violations(page, "complaint page with an open question")
        await page.get_by_role("button", name="Send your answer").click()
        assert (await page.title()).startswith("Error: ")
        await assert_no_axe_violations(page, "an empty answer")
        await page.get_by_label("Your answer").fill("The photos are attached to my e-mail.")
        await page.get_by_role("button", name="Send your answer").click()
        assert "added your information" in await page.locator("#result").inner_text()

        # The letters, each readable in full, and nothing wider than the screen.
        await page.locator("#letters summary").first.click()
        assert "Dear Ada Resident," in await page.locator("#letters").inner_text()
        await no_sideways_scrolling(page, "complaint page")
        await assert_no_axe_violations(page, "complaint page with a letter open")

        # The extension answer's GOV.UK date input, and its error.
        await page.locator("#agreed").check()
        await page.get_by_role("button", name="Send answer").click()
        assert (await page.title()).startswith("Error: ")
        assert await page.locator("#up_to-day.govuk-input--error").count() == 1
        await assert_no_axe_violations(page, "extension answer without a date")
        await no_sideways_scrolling(page, "extension answer without a date")

        # Withdrawing asks first; afterwards nothing promises a response or asks for more.
        await page.get_by_role("link", name="withdraw it").click()
        assert await page.get_by_role(
            "heading", name="Are you sure you want to withdraw your complaint?"
        ).is_visible()
        await assert_no_axe_violations(page, "withdrawal confirmation")
        await no_sideways_scrolling(page, "withdrawal confirmation")
        await page.get_by_label("Why are you withdrawing it? (optional)").fill("x" * 5001)
        await page.get_by_role("button", name="Yes, withdraw my complaint").click()
        assert (await page.title()).startswith("Error: ")
        await assert_no_axe_violations(page, "withdrawal confirmation with an error")
        await page.get_by_label("Why are you withdrawing it? (optional)").fill("It was sorted out.")
        await page.get_by_role("button", name="Yes, withdraw my complaint").click()
        assert (await page.locator("#result").inner_text()) == "Your complaint has been withdrawn."
        main = await page.locator("main").inner_text()
        assert "We will respond by" not in main and "Upload a file" not in main
        await assert_no_axe_violations(page, "withdrawn complaint")
        await no_sideways_scrolling(page, "withdrawn complaint")

        # Signed out, the page says how to sign in.
        await page.get_by_role("button", name="Sign out of this complaint").click()
        await page.goto(f"/complaint/{reference}")
        assert await page.get_by_role("heading", name="Sign in to see your complaint").is_visible()
        await assert_no_axe_violations(page, "signed-out visit")
        await browser.close()


async def test_start_page_and_information_pages_pass_axe_at_phone_and_desktop_width(site: Site) -> None:
    for viewport in (PHONE, DESKTOP):
        browser = await site.browser.new_context(base_url=site.base, viewport=viewport)
        page = await browser.new_page()
        for path in ("/?policy_id=bexley", "/", "/accessibility", "/privacy", "/privacy?policy_id=bexley"):
            await page.goto(path)
            await assert_no_axe_violations(page, path)
            await no_sideways_scrolling(page, path)
        await page.goto("/")
        await page.get_by_role("link", name="Accessibility statement").click()
        assert await page.get_by_role("heading", level=1).inner_text() == (
            "Accessibility statement for the council complaints service"
        )
        await page.get_by_role("link", name="Privacy notice").click()
        assert "Privacy notice" in await page.get_by_role("heading", level=1).inner_text()
        await browser.close()
