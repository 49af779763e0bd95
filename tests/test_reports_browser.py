"""The annual report in a real headless Chromium (Debian's `chromium`, driven by playwright): it renders on
its own (no request leaves the page), its charts are drawn, and a screenshot is kept under the test's tmp dir
(pytest keeps the last runs' folders: `pytest --basetemp=out` puts it somewhere chosen)."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Request, async_playwright

from core.settings import Settings
from devstack.ui_screenshot import CHROMIUM, CHROMIUM_ARGS
from tests.api_helpers import bearer
from tests.browser import NEEDS_CHROMIUM
from tests.report_scenario import KnownSet
from tests.test_reports import report_api  # noqa: F401  (the fixture)

pytestmark = NEEDS_CHROMIUM


def financial_year_of(known: KnownSet) -> int:
    return known.monday.year if known.monday.month >= 4 else known.monday.year - 1


async def test_the_annual_report_renders_alone_with_its_charts(
    report_api: tuple[httpx.AsyncClient, Settings, KnownSet],  # noqa: F811
    tmp_path: Path,
) -> None:
    client, settings, known = report_api
    year = financial_year_of(known)
    response = await client.get(
        "/api/reports/annual",
        params={"year": year, "policy_id": known.policy_id},
        headers=bearer("maya.manager", settings),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for external in ("<script", "<link", "src=", "@import", "url("):
        assert external not in html, external

    requests: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 800})

            def record(request: Request) -> None:
                requests.append(request.url)

            page.on("request", record)
            await page.set_content(html, wait_until="load")
            label = f"{year}/{(year + 1) % 100:02d}"
            title = f"Annual complaints performance and service improvement report {label}: Reportshire"
            assert await page.title() == title
            tsm = await page.inner_text("#tsm")
            assert "CH01" in tsm and "2.5" in tsm and "0.5" in tsm  # 5 and 1 complaints per 2,000 homes
            assert "CH02" in tsm and "100.0%" in tsm
            charts = page.locator("svg.chart")
            assert await charts.count() == 4
            for index in range(4):
                chart = charts.nth(index)
                box = await chart.bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 100  # drawn, not collapsed
                assert await chart.locator("rect.bar").count() > 0
            titles = [await charts.nth(index).get_attribute("aria-label") for index in range(4)]
            assert titles == [
                "Responses on time by month (%)",
                "Outcomes",
                "Complaints received by service area",
                "Remedies by kind",
            ]
            # Remedies: A's apology and its redress, one bar each.
            assert await charts.nth(3).locator("rect.bar").count() == 2
            learning = await page.inner_text("#learning")
            assert "housing-repairs" in learning and "waste" in learning
            themes = await page.inner_text("#learning-themes")
            assert "contractor" in themes and "delay" in themes
            assert await page.locator("#governing-body-response").is_visible()
            shot = tmp_path / "annual-report.png"
            await page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            await browser.close()
    assert requests == [], requests  # nothing fetched: the page is self-contained
