"""Making a complaint one question a page in Chromium (issue 30): for yourself at desktop width and for
someone else at phone width (320 px, no sideways scrolling), axe-core finding nothing on any question, error
state, "Check your answers" or the confirmation; a Change link comes back to "Check your answers". Every
wait is bounded (the browser context's default timeout), so a broken page fails rather than hangs."""

from __future__ import annotations

from playwright.async_api import Page, ViewportSize

from tests.test_resident_browser import (
    Site,
    assert_no_axe_violations,
    make_complaint,
    new_email,
    pytestmark,
    site,
)

__all__ = ["pytestmark", "site"]  # the skip when chromium is missing, and the fixture

PHONE = ViewportSize(width=320, height=640)
DESKTOP = ViewportSize(width=1200, height=900)
WAIT_MS = 15_000


async def checked_page(page: Page, what: str) -> None:
    """axe-core finds nothing, and nothing scrolls sideways."""
    await assert_no_axe_violations(page, what)
    wide: bool = await page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    assert not wide, f"{what} scrolls sideways at {page.viewport_size}"


async def go_on(page: Page, what: str) -> None:
    await checked_page(page, what)
    await page.get_by_role("button", name="Continue").click()


async def test_for_yourself_at_desktop_width(site: Site) -> None:
    browser = await site.browser.new_context(base_url=site.base, viewport=DESKTOP)
    browser.set_default_timeout(WAIT_MS)
    try:
        page = await browser.new_page()
        await make_complaint(page, "Ada Resident", new_email(), axe=True)
        assert (
            await page.locator("#what-happens-next").get_by_text("We will send our response by").is_visible()
        )
        assert await page.locator("#urgent-help").is_visible()
    finally:
        await browser.close()


async def test_for_someone_else_at_phone_width(site: Site) -> None:
    browser = await site.browser.new_context(base_url=site.base, viewport=PHONE)
    browser.set_default_timeout(WAIT_MS)
    try:
        page = await browser.new_page()
        await page.goto("/?policy_id=bexley")
        await page.get_by_role("button", name="Start now").click()
        await page.get_by_label("Someone else: I am making it for them").check()
        await go_on(page, "who is it for")
        await go_on(page, "council (chosen on the start page)")
        # Sent empty: the error state, then answered.
        await page.get_by_role("button", name="Continue").click()
        assert (await page.title()).startswith("Error: ")
        await checked_page(page, "your details, with errors")
        await page.get_by_label("Your full name").fill("Ben Helper")
        await page.get_by_label("Your e-mail address").fill(new_email())
        await go_on(page, "your details")
        await page.get_by_label("Their carer").check()
        await go_on(page, "which best describes you")
        assert await page.locator("#consent-rule").get_by_text("needs their consent in writing").is_visible()
        await page.get_by_label("I have their consent to make this complaint and act for them").check()
        await go_on(page, "consent")
        await page.get_by_label("What is the full name of the person the complaint is for?").fill(
            "Ada Resident"
        )
        await go_on(page, "their name")
        assert await page.get_by_role("heading", name="How can we contact them?").is_visible()
        await go_on(page, "their contact details (none: the representative can be reached)")
        await go_on(page, "service")
        await go_on(page, "home")
        await page.get_by_label("What went wrong?").fill("Her damp was never treated.")
        await go_on(page, "what went wrong")
        await go_on(page, "outcome")
        await page.get_by_label("A British Sign Language interpreter").check()
        await go_on(page, "support")
        await go_on(page, "letters")

        await checked_page(page, "check your answers for someone else")
        await page.get_by_role("link", name="Change what went wrong").click()
        await page.get_by_label("What went wrong?").fill("Her damp was never treated, after three visits.")
        await page.get_by_role("button", name="Continue").click()
        assert await page.get_by_role(
            "heading", name="Check your answers before sending your complaint"
        ).is_visible()
        assert await page.get_by_text("Her damp was never treated, after three visits.").is_visible()
        await page.get_by_role("button", name="Send complaint").click()

        assert await page.get_by_role("heading", name="Complaint received").is_visible()
        assert await page.get_by_role("heading", name="We need their consent in writing").is_visible()
        assert await page.locator("#access-code").count() == 0
        await checked_page(page, "complaint received, written consent to come")
    finally:
        await browser.close()
