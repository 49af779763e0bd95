"""The resident pages in a real headless Chromium (Debian's `chromium` package, driven by playwright).

The real app is served by uvicorn on a free local port, in this test's event loop (the pool and the Temporal
client belong to it), over the real database and Temporal test server with a worker. JavaScript is off in
the browser: every page must work as plain HTML forms.

CI installs chromium in `.ci/run`; where it is missing (a laptop without apt) the tests skip, saying so.
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import pytest
from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]
from playwright.async_api import Browser, BrowserContext, Page
from temporalio.testing import WorkflowEnvironment

from core.temporal import workflow_id
from domain import commands as cmd
from domain.models import ComplaintState
from domain.policy import Policy
from tests.api_helpers import send_latest_link, settings_for
from tests.browser import NEEDS_CHROMIUM, served_to_a_browser
from tests.factories import INVESTIGATOR, OFFICER, act

pytestmark = NEEDS_CHROMIUM


@dataclass
class Site:
    base: str
    browser: Browser
    env: WorkflowEnvironment
    pool: asyncpg.Pool

    async def context(self) -> BrowserContext:
        """A fresh browser profile (its own cookies), with JavaScript off."""
        return await self.browser.new_context(java_script_enabled=False, base_url=self.base)

    async def e_mailed_link(self, reference: str) -> str:
        """The last access link e-mailed for the complaint (from the outbox), as a path on this site."""
        link = urlsplit(await send_latest_link(self.pool, reference))
        return f"{link.path}?{link.query}"

    async def staff(self, reference: str, update: str, command: cmd.Command) -> ComplaintState:
        # The Update answers a small receipt: the state is read back with the query (tests.factories.act).
        return await act(self.env.client.get_workflow_handle(workflow_id(reference)), update, command)


def new_email() -> str:
    # A new address each time: complaints per e-mail address are limited, and tests share the database.
    return f"resident-{random.randrange(10**9)}@example.org"


@pytest.fixture
async def site(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[Site]:
    # Every test of the session comes from 127.0.0.1 and the limits' counters live in the shared test
    # database: per-address allowances are lifted here so one file's wrong codes never decide another's
    # page (the per-reference limit, which the lock-out test below relies on, stays as configured).
    settings = settings_for(task_queue).model_copy(
        update={
            "resident_wrong_codes_per_address": 100_000,
            "resident_complaints_per_address": 100_000,
            "resident_drafts_per_address": 100_000,
            "resident_link_requests_per_address": 100_000,
        }
    )
    async with served_to_a_browser(temporal_env, pool, policies, task_queue, settings) as (base, browser):
        yield Site(base=base, browser=browser, env=temporal_env, pool=pool)


async def make_complaint(page: Page, name: str, email: str, *, axe: bool = False) -> tuple[str, str]:
    """Through the pages: start page, one question a page, check answers, the confirmation with the
    reference and code. `axe`: axe-core on every page and on the first error state."""

    async def next_page(what: str) -> None:
        if axe:
            await assert_no_axe_violations(page, what)
        await page.get_by_role("button", name="Continue").click()

    await page.goto("/")
    assert await page.get_attribute("html", "lang") == "en"
    await page.get_by_role("button", name="Start now").click()
    assert await page.title() == "Who is the complaint for? - Council complaints"

    # A question sent unanswered comes back with the error summary first, linked to its field.
    await page.get_by_role("button", name="Continue").click()
    assert (await page.title()).startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    assert "There is a problem" in await summary.inner_text()
    # "Who is the complaint for?" first, and required.
    link = summary.get_by_role("link", name="Select who the complaint is for: you, or someone else")
    assert await link.get_attribute("href") == "#on_behalf"
    if axe:
        await assert_no_axe_violations(page, "who is it for, unanswered")
    await page.get_by_label("Me", exact=True).check()
    await next_page("who is it for")
    await page.get_by_label("Which council is the complaint about?").select_option("bexley")
    await next_page("council")
    await page.get_by_label("What is your full name?").fill(name)
    await next_page("name")
    await page.get_by_label("E-mail address", exact=True).fill(email)
    await next_page("contact")
    await page.get_by_label("Which service is the complaint about?").select_option("housing-repairs")
    await next_page("service")
    await next_page("home (optional)")
    await page.get_by_label("What went wrong?").fill(
        "Damp in the bedroom reported three times and not fixed."
    )
    await next_page("what went wrong")
    await page.get_by_label("What would you like us to do to put it right? (optional)").fill("Fix the damp.")
    await next_page("outcome")
    await next_page("support")
    await next_page("letters")

    assert await page.get_by_role(
        "heading", name="Check your answers before sending your complaint"
    ).is_visible()
    if axe:
        await assert_no_axe_violations(page, "check your answers")
    await page.get_by_role("button", name="Send complaint").click()
    assert await page.get_by_role("heading", name="Complaint received").is_visible()
    if axe:
        await assert_no_axe_violations(page, "complaint received")
    reference = (await page.locator("#reference").inner_text()).strip()
    token = (await page.locator("#access-code").inner_text()).strip()
    assert reference.startswith("CMP-") and re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", token)
    return reference, token


async def track(page: Page, reference: str, token: str) -> None:
    await page.goto("/complaint/track")
    await page.get_by_label("Complaint reference").fill(reference)
    await page.get_by_label("Access code").fill(token)
    await page.get_by_role("button", name="Continue").click()


async def every_field_is_labelled(page: Page) -> None:
    for field in await page.locator("input:not([type=hidden]), textarea, select").all():
        field_id = await field.get_attribute("id")
        assert field_id and await page.locator(f"label[for='{field_id}']").count() == 1, field_id


async def test_make_track_and_ask_for_a_review(site: Site) -> None:
    maker = await site.context()
    page = await maker.new_page()
    reference, token = await make_complaint(page, "Ada Resident", new_email())
    await maker.close()

    # Later, on another device: found by reference and access code.
    resident = await site.context()
    page = await resident.new_page()
    await track(page, reference, token)
    assert page.url == f"{site.base}/complaint/{reference}"
    assert await page.get_by_role("heading", name=f"Your complaint {reference}").is_visible()
    assert "Received" in await page.locator("#status-text").inner_text()
    assert "Link to track your complaint" in await page.locator("#letters").inner_text()
    await every_field_is_labelled(page)
    assert await page.get_by_role("button", name="Ask for Review").count() == 0

    # The council acknowledges and responds (staff actions, straight to the workflow).
    await site.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await site.staff(reference, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    await site.staff(
        reference,
        "respond",
        cmd.Respond(actor=INVESTIGATOR, outcome="not_upheld", findings="The repair was done on time."),
    )

    await page.reload()
    assert "Response sent" in await page.locator("#status-text").inner_text()
    letters = await page.locator("#letters").inner_text()
    assert "Acknowledgement of your complaint" in letters and "Our response to your complaint" in letters
    assert await page.get_by_role("heading", name="Take your complaint to Review").is_visible()

    # Reasons are optional (the Complaint Handling Code, 6.12: a resident must not be required to give
    # them): the request is taken at once without them (received: the council decides whether it goes ahead).
    assert await page.get_by_label("Why are you unhappy with our response? (optional)").count() == 1
    await page.get_by_label("What outcome do you want from Review? (optional)").fill("A full survey.")
    await page.get_by_role("button", name="Ask for Review").click()
    assert page.url == f"{site.base}/complaint/{reference}?done=review"
    assert (
        await page.locator("#result").inner_text()
    ) == "We have received your request to take your complaint to Review."
    assert "Review asked for" in await page.locator("#status-text").inner_text()
    assert await page.get_by_role("button", name="Ask for Review").count() == 0

    # Information sent from the page reaches the workflow.
    await page.get_by_label("What do you want to tell us?").fill("Photos are on their way by post.")
    await page.get_by_role("button", name="Send information").click()
    assert "added your information" in await page.locator("#result").inner_text()
    handle = site.env.client.get_workflow_handle(workflow_id(reference))
    state = await handle.query("state", result_type=ComplaintState)
    assert state.stage == 2
    assert state.information_received == 1
    summary = await site.pool.fetchval(
        "SELECT detail->>'summary' FROM complaint_events WHERE reference = $1 AND action = 'add_information'",
        reference,
    )
    assert summary == "Photos are on their way by post."
    await resident.close()


async def test_a_complaint_for_someone_else_without_javascript(site: Site) -> None:
    """The question pages are plain HTML, branching on the server: with JavaScript off a representative is
    asked their own questions and the council's own kinds of representative. An old link to the one-page
    form (`/complaint/new`) lands on them too (issue 30: one journey, one question a page)."""
    context = await site.context()
    context.set_default_timeout(15_000)  # bounded: a broken page fails rather than hangs
    page = await context.new_page()
    await page.goto("/complaint/new?policy_id=barking-dagenham")
    assert await page.title() == "Who is the complaint for? - Council complaints"
    await page.get_by_label("Someone else: I am making it for them").check()
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("button", name="Continue").click()  # the council, chosen by the old link
    # Sent empty: what is missing comes back in the error summary.
    await page.get_by_role("button", name="Continue").click()
    assert (await page.title()).startswith("Error: ")
    await page.get_by_label("Your full name").fill("Ben Helper")
    await page.get_by_label("Your e-mail address").fill(new_email())
    await page.get_by_role("button", name="Continue").click()
    kinds = page.get_by_role("group", name="Which best describes you?").get_by_role("radio")
    # Barking and Dagenham's own list: councillors and MPs have their own enquiry route there.
    assert await kinds.count() == 6
    await page.get_by_label("A family member").check()
    await page.get_by_label("Your relationship to them (optional)").fill("Her son")
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("I have their consent to make this complaint and act for them").check()
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("What is the full name of the person the complaint is for?").fill("Ada Resident")
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("button", name="Continue").click()  # their contact details: none
    # The service and (where the council asks it) the home, left as they are.
    while not await page.get_by_label("What went wrong?").count():
        await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("What went wrong?").fill("The lift has been broken for three weeks.")
    while not await page.get_by_role("button", name="Send complaint").count():
        await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("button", name="Send complaint").click()
    assert await page.get_by_role("heading", name="Complaint received").is_visible()
    assert await page.get_by_role("heading", name="We need their consent in writing").is_visible()
    assert await page.locator("#access-code").count() == 0
    reference = (await page.locator("#reference").inner_text()).strip()
    stored = await site.pool.fetchval("SELECT representative FROM complaints WHERE reference = $1", reference)
    assert (stored["name"], stored["kind"], stored["relationship"]) == ("Ben Helper", "family", "Her son")
    assert stored["consent_recorded"] is False  # written consent, which the council will ask for
    await context.close()


async def test_a_strangers_code_cannot_read_the_complaint(site: Site) -> None:
    owner = await site.context()
    reference, _ = await make_complaint(await owner.new_page(), "Ada Resident", new_email())
    await owner.close()
    stranger = await site.context()
    page = await stranger.new_page()
    other_reference, stranger_token = await make_complaint(page, "Bob Stranger", new_email())
    assert other_reference != reference

    # The stranger's own code, with the first complaint's reference: in the form and in a link.
    await track(page, reference, stranger_token)
    assert page.url == f"{site.base}/complaint/track"
    assert "We could not find a complaint" in await page.locator(".govuk-error-summary").inner_text()
    await page.goto(f"/complaint/track?reference={reference}&code={stranger_token}")
    await page.get_by_role("button", name="Continue").click()
    assert await page.get_by_role("heading", name="Complaint not found").is_visible()
    # Going straight to the page, with the cookie of their own complaint, finds nothing either.
    response = await page.goto(f"/complaint/{reference}")
    assert response is not None and response.status == 404
    body = await page.locator("main").inner_text()
    assert "Complaint not found" in body and "Damp" not in body and "Ada" not in body
    await stranger.close()


async def test_a_resident_opens_their_link_after_someone_elses_failures(site: Site) -> None:
    """Everyone here comes from 127.0.0.1, as behind a council's proxy or a carrier's NAT: someone else's
    wrong codes, for this very complaint, lock no one out who has the right one."""
    maker = await site.context()
    reference, _ = await make_complaint(await maker.new_page(), "Ada Resident", new_email())
    await maker.close()

    someone = await site.context()
    page = await someone.new_page()
    for _ in range(11):
        await track(page, reference, "not-the-code-" + "x" * 30)
    assert await page.get_by_role("heading", name="Too many attempts").is_visible()
    assert "a right code works at any time" in await page.locator("main").inner_text()
    await someone.close()

    # The resident opens the link from their e-mail, on their phone, from the same address.
    resident = await site.context()
    page = await resident.new_page()
    link = await site.e_mailed_link(reference)
    await page.goto(link)
    assert await page.get_by_role("heading", name=f"Open your complaint {reference}").is_visible()
    await page.get_by_role("button", name="Continue").click()
    assert page.url == f"{site.base}/complaint/{reference}"
    assert await page.get_by_role("heading", name=f"Your complaint {reference}").is_visible()
    assert "Received" in await page.locator("#status-text").inner_text()
    # Signed in by a cookie the page's scripts cannot read (and that holds no code).
    cookies = {cookie["name"]: cookie for cookie in await resident.cookies()}
    assert cookies["resident_session"]["httpOnly"] is True
    assert cookies["resident_session"]["sameSite"] == "Lax"
    assert cookies["resident_session"]["value"] not in link
    # Following the link again in the same browser goes straight to the complaint.
    await page.goto(link)
    assert page.url == f"{site.base}/complaint/{reference}"
    await resident.close()

    # The link worked once: in another browser it is spent.
    other = await site.context()
    page = await other.new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Continue").click()
    assert await page.get_by_role("heading", name="This link has been used already").is_visible()
    await other.close()


# ----------------------------------------------------------------------------------- accessibility (axe)


async def assert_no_axe_violations(page: Page, what: str) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


async def test_every_resident_page_passes_axe(site: Site) -> None:
    """axe-core on every resident page (and its error state), in a browser with JavaScript on, so the pages
    GOV.UK Frontend's scripts enhance are checked as most residents see them."""
    browser = await site.browser.new_context(base_url=site.base)
    page = await browser.new_page()
    # The question pages, their error states and the confirmation for someone else are checked page by
    # page in test_resident_make_browser.py; the old form's address leads to them.
    for path in ("/", "/complaint/new", "/complaint/track", "/complaint/new-link"):
        await page.goto(path)
        await assert_no_axe_violations(page, path)
    await page.goto("/complaint/new-link")
    await page.get_by_role("button", name="Send me a new link").click()
    await assert_no_axe_violations(page, "new link form with errors")
    await page.goto("/complaint/CMP-1999-000001")
    await assert_no_axe_violations(page, "complaint not found")

    reference, token = await make_complaint(page, "Ada Resident", new_email())
    await assert_no_axe_violations(page, "complaint made")
    await page.goto(await site.e_mailed_link(reference))
    await assert_no_axe_violations(page, "e-mailed link")
    await page.goto("/complaint/track")
    await page.get_by_role("button", name="Continue").click()
    await assert_no_axe_violations(page, "track form with errors")
    await track(page, reference, token)
    await assert_no_axe_violations(page, "complaint page")
    await page.get_by_role("button", name="Upload file").click()
    await assert_no_axe_violations(page, "complaint page with an error")
    await page.goto(f"/complaint/{reference}/equality")
    await assert_no_axe_violations(page, "equality monitoring")
    await page.goto(f"/complaint/{reference}/satisfaction")
    assert await page.get_by_text("once we have closed it").is_visible()
    await assert_no_axe_violations(page, "satisfaction survey (not open yet)")
    await browser.close()
