"""The triage queue in Chromium (tests/test_staff_browser.py's server and browser): an officer works an item
with JavaScript off (plain HTML forms), and axe-core finds no violation on the queue, an item's page and its
error state, with JavaScript on."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import asyncpg
from temporalio.testing import WorkflowEnvironment

from core.services import Services
from domain.policy import Policy
from inbound.receive import receive
from tests.test_staff_browser import Console, assert_no_axe_violations, console, sign_in

__all__ = ["console"]

JPEG = b"\xff\xd8\xff" + b"mould" * 20


async def _arrives(
    console: Console, temporal_env: WorkflowEnvironment, policies: dict[str, Policy], *, subject: str
) -> uuid.UUID:
    """An e-mail with no reference and an attachment, received as the listener receives one."""
    message = EmailMessage()
    message["From"] = "Hana Tenant <hana@example.net>"
    message["To"] = "complaints@council.example"
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="example.net")
    message.set_content("There is mould in the children's bedroom and the landlord does not answer.")
    message.add_attachment(JPEG, maintype="image", subtype="jpeg", filename="mould.jpg")
    services = Services(
        settings=console.settings, pool=console.pool, temporal=temporal_env.client, policies=policies
    )
    found = await receive(services, message.as_bytes(), recipients=[str(message["To"])], source="smtp")
    assert found is not None
    return found


async def test_an_officer_dismisses_a_message_from_the_triage_queue(
    console: Console, temporal_env: WorkflowEnvironment, policies: dict[str, Policy], pool: asyncpg.Pool
) -> None:
    subject = f"Mould {uuid.uuid4().hex[:6]}"
    item_id = await _arrives(console, temporal_env, policies, subject=subject)
    context = await console.context()
    page = await context.new_page()
    await sign_in(page, "olivia.officer")

    await page.get_by_role("link", name="Triage").click()
    assert await page.get_by_role("heading", name="Triage", exact=True).is_visible()
    await page.get_by_role("link", name=subject).click()
    assert await page.get_by_role("heading", name=subject).is_visible()
    assert "hana@example.net" in await page.locator("#sender").inner_text()
    assert "mould.jpg" in await page.locator("#attachments").inner_text()
    assert "mould in the children's bedroom" in await page.locator("#text").inner_text()

    # Sent without a reason: the error summary links to the field; then dismissed.
    await page.get_by_role("button", name="Dismiss").click()
    assert (await page.title()).startswith("Error: ")
    link = page.locator(".govuk-error-summary").get_by_role("link")
    assert await link.get_attribute("href") == "#dismiss_reason"
    await page.get_by_label("Why it needs nothing").fill("A copy of a message already logged")
    await page.get_by_role("button", name="Dismiss").click()
    assert await page.locator("#done").is_visible()
    assert await page.get_by_role("link", name=subject).count() == 0
    row = await pool.fetchrow("SELECT status, decided_by FROM inbound_messages WHERE id = $1", item_id)
    assert row is not None and tuple(row) == ("dismissed", "olivia.officer")
    await context.close()


async def test_the_triage_pages_pass_axe(
    console: Console, temporal_env: WorkflowEnvironment, policies: dict[str, Policy]
) -> None:
    item_id = await _arrives(console, temporal_env, policies, subject=f"Mould {uuid.uuid4().hex[:6]}")
    context = await console.context(javascript=True)
    page = await context.new_page()
    await sign_in(page, "olivia.officer")
    await page.goto("/staff/triage")
    await assert_no_axe_violations(page, "triage queue")
    await page.goto(f"/staff/triage/{item_id}")
    await assert_no_axe_violations(page, "triage item")
    await page.get_by_role("button", name="Open a complaint").click()
    assert (await page.title()).startswith("Error: ")
    await assert_no_axe_violations(page, "triage item with errors")
    await page.get_by_role("button", name="Link to the complaint").click()
    await assert_no_axe_violations(page, "triage item with a link error")
    await context.close()
