"""Screenshots of the Temporal Web UI as operations see it:
`python -m devstack.ui_screenshot docs/temporal-ui.png`.

Starts its own dev server (with the UI) and embedded PostgreSQL in a temporary folder, opens a few
complaints through the service's own intake and actions, then photographs the UI's list in Debian's headless
Chromium: each row shows the complaint's summary (reference, council, service area, channel; no personal
data). Used by tests/test_temporal_ui.py, which checks the page, and to refresh the README's picture.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, async_playwright
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.intake import open_case
from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.settings import REPO_ROOT
from core.temporal import workflow_id
from devstack.servers import (
    free_port,
    register_search_attributes,
    start_postgres,
    start_temporal_dev_server,
    stop_process_group,
    wait_for_temporal,
)
from domain import commands as cmd
from domain.models import Actor, Channel, Complainant, Intake, Role
from domain.policy_files import load_policies
from store.db import create_pool, migrate
from worker import build_worker

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OFFICER = Actor(id="olivia.officer", role=Role.COMPLAINTS_OFFICER, name="Olivia Officer")
DEMO = [
    ("bexley", "housing-repairs", Channel.EMAIL),
    ("westminster", "waste", Channel.PHONE),
    ("barking-dagenham", "council-tax", Channel.LETTER),
    ("scotland-model", "parking", Channel.WEB),
]


async def _all_text(page: Page) -> str:
    """The page's text with its frames' (the UI renders summary and details as markdown in iframes)."""
    texts = []
    for frame in page.frames:
        try:
            texts.append(await frame.inner_text("body"))
        except PlaywrightError:
            continue  # a frame still loading
    return "\n".join(texts)


async def screenshot(out: Path) -> str:
    """Photograph the UI's workflow list (filtered by a saved-view query) into `out`, and one complaint's
    page (its summary and current details) beside it (`<out>-detail.png`); return both pages' text."""
    folder = Path(tempfile.mkdtemp(prefix="complaints-ui-"))
    postgres = start_postgres(folder / "postgres", keep_data=False)
    port, ui_port = free_port(), free_port()
    temporal = start_temporal_dev_server(folder / "temporal", port=port, ui_port=ui_port)
    try:
        await wait_for_temporal(f"127.0.0.1:{port}")
        # Demo data only, on a private server: payloads in clear, so the UI shows the summary and details
        # without a codec server (the service's own clients always encrypt: core/codec.py).
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        await register_search_attributes(client, SEARCH_ATTRIBUTE_TYPES)
        pool = await create_pool(str(postgres.get_uri()))
        try:
            await migrate(pool)
            policies = load_policies(REPO_ROOT / "policies")
            async with build_worker(client, "ui-screenshot", pool, policies):
                references = []
                for index, (policy_id, area, channel) in enumerate(DEMO):
                    reference = await open_case(
                        pool=pool,
                        temporal=client,
                        task_queue="ui-screenshot",
                        policy=policies[policy_id],
                        intake=Intake(
                            policy_id=policy_id,
                            received_at=datetime.now(UTC) - timedelta(days=index),
                            channel=channel,
                            complainant=Complainant(name="Demo Resident", email="demo@example.org"),
                            service_area=area,
                            summary="A demo complaint.",
                        ),
                        actor=OFFICER,
                    )
                    references.append(reference)
                    if index % 2 == 0:
                        handle = client.get_workflow_handle(workflow_id(reference))
                        await handle.execute_update("acknowledge", cmd.Acknowledge(actor=OFFICER))
                # The worker keeps running: the UI asks it for each complaint's current details.
                async with async_playwright() as playwright:
                    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                    page = await browser.new_page(viewport={"width": 1600, "height": 900})
                    base = f"http://127.0.0.1:{ui_port}/namespaces/default/workflows"
                    query = quote('ExecutionStatus = "Running" AND Stage = 1')
                    await page.goto(f"{base}?query={query}")
                    await page.get_by_text("CMP-", exact=False).first.wait_for(timeout=30_000)
                    await page.wait_for_timeout(1_000)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    await page.screenshot(path=str(out), full_page=False)
                    text = await page.inner_text("body")
                    await page.goto(f"{base}/{workflow_id(references[0])}")
                    await page.get_by_text(references[0], exact=False).first.wait_for(timeout=30_000)
                    # The UI keeps the summary and the current details under "User Metadata".
                    await page.get_by_text("User Metadata", exact=True).first.click()
                    for _ in range(60):  # the UI asks the worker (a query) for the current details
                        if "Next deadline" in await _all_text(page):
                            break
                        await page.wait_for_timeout(500)
                    await page.screenshot(path=str(out.with_name(out.stem + "-detail.png")), full_page=False)
                    text += "\n" + await _all_text(page)
                    await browser.close()
                    return text
        finally:
            await pool.close()
    finally:
        stop_process_group(temporal)
        postgres.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "docs" / "temporal-ui.png"
    asyncio.run(screenshot(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
