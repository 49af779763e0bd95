"""The console's "Send a new access code" in Chromium, JavaScript on: the button on the case page, the page
saying how the code goes, the letter to print; axe-core finds nothing on either page."""

from __future__ import annotations

import re

from tests.browser import NEEDS_CHROMIUM
from tests.test_staff_browser import Console, assert_no_axe_violations, console, sign_in

pytestmark = NEEDS_CHROMIUM
__all__ = ["console"]


async def test_a_manager_sends_a_posted_resident_a_new_code(console: Console) -> None:
    reference = await console.open_complaint(
        channel="phone",
        complainant={"name": "Ada Post", "address": "1 High Street", "preferred_contact": "letter"},
    )
    context = await console.context(javascript=True)
    page = await context.new_page()
    await sign_in(page, "maya.manager")
    await page.goto(f"/staff/complaints/{reference}")
    await page.get_by_role("button", name="Send a new access code").click()
    assert await page.get_by_role("heading", name="Send a new access code").is_visible()
    await assert_no_axe_violations(page, "send a new access code")
    await page.get_by_role("button", name="Send a new access code").click()
    assert await page.get_by_role("heading", name="Print and post this letter now").is_visible()
    letter = await page.locator("#letter-text").inner_text()
    assert re.search(r"Your access code: [A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", letter), letter
    await assert_no_axe_violations(page, "the new access code letter")
    await context.close()
