"""The staff console in a real headless Chromium (Debian's `chromium`, driven by playwright), served by
uvicorn over the real database and Temporal test server with a worker, as tests/test_resident_browser.py
does for the resident pages. The journeys run with JavaScript off (plain HTML forms); axe-core runs with it
on, on every page and error state."""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]
from playwright.async_api import Browser, BrowserContext, Page
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain.actions import ACTIONS
from domain.policy import Policy
from store.staff import DEMO_STAFF, StaffRepository
from tests.api_helpers import PASSWORD, bearer, complaint_body, settings_for
from tests.browser import NEEDS_CHROMIUM, served_to_a_browser

pytestmark = NEEDS_CHROMIUM


@dataclass
class Console:
    base: str
    browser: Browser
    settings: Settings
    pool: asyncpg.Pool

    async def context(self, *, javascript: bool = False) -> BrowserContext:
        return await self.browser.new_context(java_script_enabled=javascript, base_url=self.base)

    async def open_complaint(self, **overrides: object) -> str:
        """A complaint logged through the API (with httpx against the same server)."""
        import httpx

        async with httpx.AsyncClient(base_url=self.base, timeout=60) as client:  # a busy CI machine
            answer = await client.post(
                "/api/complaints",
                json=complaint_body(**overrides),
                headers=bearer("olivia.officer", self.settings),
            )
            assert answer.status_code == 201, answer.text
            reference: str = answer.json()["reference"]
            return reference

    async def act(self, reference: str, action: str, body: dict[str, object]) -> None:
        """A manager's action through the API."""
        import httpx

        async with httpx.AsyncClient(base_url=self.base, timeout=60) as client:  # a busy CI machine
            answer = await client.post(
                f"/api/complaints/{reference}/{action}",
                json=body,
                headers=bearer("maya.manager", self.settings),
            )
            assert answer.status_code == 200, answer.text


@pytest.fixture
async def console(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[Console]:
    # Development: the demo users' sign-in form exists only there (issue 29).
    settings = settings_for(task_queue).model_copy(
        update={"cookie_secure": False, "environment": "development"}
    )
    repository = StaffRepository(pool)
    for user in DEMO_STAFF:
        await repository.upsert(user=user, password=PASSWORD)
    async with served_to_a_browser(temporal_env, pool, policies, task_queue, settings) as (base, browser):
        yield Console(base=base, browser=browser, settings=settings, pool=pool)


async def sign_in(page: Page, user: str) -> None:
    await page.goto("/staff/")
    await page.get_by_label("Username").fill(user)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    assert await page.get_by_role("heading", name="My cases").is_visible()


async def keep_screenshot(page: Page, name: str) -> None:
    """`CONSOLE_SCREENSHOTS=docs pytest tests/test_staff_browser.py -k signs_in` refreshes the README's
    pictures of the console."""
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.screenshot(path=os.path.join(folder, name), full_page=False)


async def assert_no_axe_violations(page: Page, what: str) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


async def test_an_officer_signs_in_finds_a_complaint_and_acts_on_it(console: Console) -> None:
    surname = f"Browsertest{random.randrange(10**6)}"
    reference = await console.open_complaint(
        complainant={"name": f"Ada {surname}", "email": "ada@example.org"}
    )
    context = await console.context()
    page = await context.new_page()

    # Sign-in: sent empty, the error summary links each field; then the demo user's name and password.
    await page.goto("/staff/")
    await page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    assert await summary.get_by_role("link", name="Enter your username").get_attribute("href") == "#username"
    await sign_in(page, "olivia.officer")
    cookies = {cookie["name"]: cookie for cookie in await context.cookies()}
    assert cookies["staff_session"]["httpOnly"] is True and cookies["staff_session"]["sameSite"] == "Lax"

    # The queues: Unassigned holds it; a search by the complainant's name finds it, a filter narrows.
    await page.get_by_role("link", name="Unassigned").click()
    assert await page.get_by_role("heading", name="Unassigned").is_visible()
    await page.get_by_label("Reference or name").fill(surname)
    await page.get_by_role("button", name="Apply filters").click()
    rows = page.locator("#queue-table tbody tr")
    assert await rows.count() == 1 and reference in await rows.first.inner_text()
    await page.get_by_label("Status").select_option("acknowledged")
    await page.get_by_role("button", name="Apply filters").click()
    assert await page.locator("#empty-queue").is_visible()
    await page.get_by_label("Status").select_option("")
    await page.get_by_role("button", name="Apply filters").click()
    await keep_screenshot(page, "staff-console-queue.png")

    # The case page, and an action from its menu.
    await page.get_by_role("link", name=reference).click()
    assert await page.get_by_role("heading", name=f"Complaint {reference}").is_visible()
    assert "Acknowledge by" in await page.locator("#deadlines").inner_text()
    await page.get_by_role("button", name="Acknowledge").click()
    await page.get_by_role("button", name="Acknowledge").click()
    assert await page.locator("#status").inner_text() == "Acknowledged"

    # Assign: sent empty, the command's validation in an error summary; then done.
    await page.get_by_role("button", name="Assign").click()
    await page.locator("#form").get_by_role("button", name="Assign").click()
    assert (await page.title()).startswith("Error: ")
    link = page.locator(".govuk-error-summary").get_by_role("link")
    assert await link.get_attribute("href") == "#assignee"
    await page.get_by_label("Assign to (staff id)").fill("ian.investigator")
    await page.locator("#form").get_by_role("button", name="Assign").click()
    assert await page.locator("#assigned-to").inner_text() == "ian.investigator"
    timeline = await page.locator("#timeline").inner_text()
    assert "Assign" in timeline and "Acknowledge" in timeline
    await keep_screenshot(page, "staff-console-case.png")
    await context.close()


async def test_a_second_officer_acting_on_an_old_view_is_told_so(console: Console) -> None:
    reference = await console.open_complaint()
    first, second = await console.context(), await console.context()
    olivia, maya = await first.new_page(), await second.new_page()
    await sign_in(olivia, "olivia.officer")
    await sign_in(maya, "maya.manager")
    await olivia.goto(f"/staff/complaints/{reference}/act/assign")
    await maya.goto(f"/staff/complaints/{reference}/act/assign")
    await maya.get_by_label("Assign to (staff id)").fill("ines.investigator")
    await maya.locator("#form").get_by_role("button", name="Assign").click()
    await olivia.get_by_label("Assign to (staff id)").fill("ian.investigator")
    await olivia.locator("#form").get_by_role("button", name="Assign").click()
    assert await olivia.get_by_role("heading", name="Someone else acted on this complaint").is_visible()
    await olivia.get_by_role("link", name=f"Open {reference} again").click()
    assert await olivia.locator("#assigned-to").inner_text() == "ines.investigator"
    await first.close()
    await second.close()


async def test_every_console_page_passes_axe(console: Console) -> None:
    """axe-core with JavaScript on (MOJ Frontend's and GOV.UK Frontend's scripts enhance the pages): the
    sign-in page and its error, every queue and a filter error, the case page, every action form a manager
    may open on a new complaint and its error state, a letter, and the pages that refuse."""
    reference = await console.open_complaint(
        complainant={
            "name": "Ada Axe",
            "email": "ada@example.org",
            "adjustments": {"kinds": ["large_print"], "preferred_format": "large_print"},
        }
    )
    context = await console.context(javascript=True)
    page = await context.new_page()
    await page.goto("/staff/")
    await assert_no_axe_violations(page, "sign in")
    await page.get_by_role("button", name="Sign in").click()
    await assert_no_axe_violations(page, "sign in with errors")
    await sign_in(page, "maya.manager")
    for slug in ("mine", "unassigned", "due-soon", "overdue", "stage-2", "waiting"):
        await page.goto(f"/staff/queues/{slug}")
        await assert_no_axe_violations(page, f"queue {slug}")
    await page.goto("/staff/dashboard")
    await assert_no_axe_violations(page, "dashboard")
    await page.goto("/staff/queues/unassigned?received_from=2026-13-45")
    await assert_no_axe_violations(page, "queue with a filter error")
    await page.goto(f"/staff/complaints/{reference}")
    await assert_no_axe_violations(page, "case page")
    # Every form a manager may open, on complaints received, acknowledged, awaiting information and
    # responded (so most actions of the table are met), and each one's error state.
    acknowledged = await console.open_complaint()
    await console.act(acknowledged, "acknowledge", {})
    waiting = await console.open_complaint()
    await console.act(waiting, "acknowledge", {})
    await console.act(waiting, "request-information", {"request": "Photos of the damp, please."})
    responded = await console.open_complaint()
    await console.act(responded, "acknowledge", {})
    await console.act(responded, "respond", {"outcome": "upheld", "findings": "The repair was late."})
    seen: set[str] = set()
    for case in (reference, acknowledged, waiting, responded):
        await page.goto(f"/staff/complaints/{case}")
        links = await page.locator("[data-action]").evaluate_all(
            "(links) => links.map((a) => a.dataset.action)"
        )
        for name in links:
            if name in seen:
                continue
            seen.add(name)
            await page.goto(f"/staff/complaints/{case}/act/{name.replace('_', '-')}")
            await assert_no_axe_violations(page, f"{name} form")
            fields = ACTIONS[name].command.model_fields.items()
            if any(field.is_required() for key, field in fields if key != "actor"):
                # (The first button: the letter's preview where the action sends one; both validate.)
                await page.locator("#form button[type=submit]").first.click()
                assert (await page.title()).startswith("Error: "), name
                await assert_no_axe_violations(page, f"{name} form with errors")
    expected = {"acknowledge", "assign", "respond", "extend", "request_information", "information_received"}
    assert seen >= expected | {"close", "request_escalation", "restrict_contact", "decline"}, seen
    await page.goto(f"/staff/complaints/{reference}")
    await page.locator("#letters a").first.click()
    await assert_no_axe_violations(page, "letter")
    await page.goto("/staff/complaints/CMP-1999-000001")
    await assert_no_axe_violations(page, "complaint not found")
    await page.goto(f"/staff/complaints/{reference}/act/respond")
    await assert_no_axe_violations(page, "action refused")
    await context.close()


async def test_a_manager_reassigns_from_a_queue_and_sees_what_failed(console: Console) -> None:
    # A word of their own finds these two in the shared database (service areas are the policy's list).
    marker = f"bulk{random.randrange(10**6)}"
    summary = f"Damp in the bedroom, case {marker}."
    plain = await console.open_complaint(summary=summary)
    about_ian = await console.open_complaint(summary=summary, staff_complained_about=["ian.investigator"])
    context = await console.context()
    page = await context.new_page()
    await sign_in(page, "maya.manager")
    await page.goto("/staff/queues/unassigned")
    await page.get_by_label("Reference or name").fill(marker)
    await page.get_by_role("button", name="Apply filters").click()
    assert await page.locator("#queue-table tbody tr").count() == 2
    await page.get_by_label(f"Select {plain}").check()
    await page.get_by_label(f"Select {about_ian}").check()
    await page.get_by_label("Reassign the selected complaints to (staff id)").fill("ian.investigator")
    await page.get_by_role("button", name="Reassign selected").click()
    assert "1 complaint reassigned to ian.investigator" in await page.locator("#bulk-done").inner_text()
    failed = await page.locator("#bulk-failed tbody tr").all_inner_texts()
    assert len(failed) == 1 and about_ian in failed[0] and "ian.investigator" in failed[0]
    assert await console.pool.fetchval("SELECT assigned_to FROM complaints WHERE reference = $1", plain) == (
        "ian.investigator"
    )
    assert (
        await console.pool.fetchval("SELECT assigned_to FROM complaints WHERE reference = $1", about_ian)
        is None
    )
    await context.close()


async def test_an_officer_logs_a_phone_complaint_with_the_councils_rules_shown(console: Console) -> None:
    context = await console.context(javascript=True)
    page = await context.new_page()
    await sign_in(page, "olivia.officer")
    await page.get_by_role("link", name="Log a complaint").click()
    await assert_no_axe_violations(page, "intake form")
    await page.get_by_label("Council", exact=True).select_option("bexley")
    await page.get_by_role("button", name="Show this council's rules").click()
    rules = await page.locator("#council-rules").inner_text()
    assert "London Borough of Bexley's rules" in rules and "months of the matter" in rules
    assert "Not handled as complaints" in rules
    await page.get_by_role("button", name="Log complaint").click()
    summary = page.locator(".govuk-error-summary")
    links = await summary.get_by_role("link").all_inner_texts()
    assert "Select how the complaint was received" in links and "Enter what went wrong" in links
    await assert_no_axe_violations(page, "intake form with errors")

    await page.get_by_role("group", name="How it was received").get_by_label("Phone").check()
    await page.get_by_label("Full name").fill("Ben Caller")
    await page.get_by_label("Phone number", exact=True).fill("020 7946 0000")
    await page.get_by_label("Service area").fill("housing-repairs")
    await page.get_by_label("What went wrong").fill("The boiler has failed three times since October.")
    # A matter from three years ago: outside the time limit, explained, until a reason is given.
    await page.get_by_label("When the matter happened or came to their notice (optional)").fill("2023-01-10")
    await page.get_by_role("button", name="Log complaint").click()
    explained = await page.locator("#out_of_time_reason-error").inner_text()
    assert "months" in explained, explained
    await assert_no_axe_violations(page, "intake form with the time limit explained")
    await page.get_by_label("Why a late complaint is taken on (optional)").fill("A long stay in hospital.")
    await page.get_by_role("button", name="Log complaint").click()
    assert "Complaint logged" in await page.locator("#done").inner_text()
    assert await page.locator("#status").inner_text() == "Received"
    assert "Ben Caller" in await page.locator("#complainant").inner_text()
    await context.close()
