"""The real app served with a worker, and a headless Chromium to visit it: what the browser tests of the
resident pages (test_resident_browser.py) and of the staff console (test_staff_browser.py) stand on."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from playwright.async_api import Browser, async_playwright
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.services import Services
from core.settings import Settings
from devstack.ui_screenshot import CHROMIUM, CHROMIUM_ARGS
from domain.policy import Policy
from tests.factories import running_worker
from tests.live_server import live_server, loopback

# The browser tests' marker: Chromium is Debian's package, not a wheel; without it they are skipped.
NEEDS_CHROMIUM = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does it in CI)",
)


@asynccontextmanager
async def served_to_a_browser(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    settings: Settings,
) -> AsyncIterator[tuple[str, Browser]]:
    """The app's base URL, served over the real database and Temporal with a worker, and the browser."""
    services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
    async with (
        running_worker(temporal_env, pool, policies, task_queue),
        live_server(loopback(create_app(settings, services))) as base,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield base, browser
        finally:
            await browser.close()
