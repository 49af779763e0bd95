"""An outside review of the staff side (December 2026): what a member of staff, or someone probing the
console, could do that they should not, or that broke. Each test is one defect found and fixed."""

from __future__ import annotations

import asyncpg
import httpx

from core.settings import Settings
from tests.staff_console import console, sign_in

__all__ = ["console"]


async def test_a_report_year_the_console_cannot_count_is_a_refusal_page_not_a_500(
    console: tuple[httpx.AsyncClient, Settings], pool: asyncpg.Pool
) -> None:
    """The console's report links take the year from the address: a year past 9999 (or before 1) is the
    manager's typo, answered like the API's 422, never an internal error."""
    client, _ = console
    await sign_in(client, "maya.manager")
    for url in (
        "/staff/reports/annual?year=99999",
        "/staff/reports/annual?year=0",
        "/staff/reports/self-assessment?year=10000&policy_id=bexley",
    ):
        answer = await client.get(url)
        assert answer.status_code == 422, (url, answer.status_code, answer.text[:300])
        assert "This report cannot be shown" in answer.text and "from 2000 to 2100" in answer.text
    fine = await client.get("/staff/reports/annual?year=2026")
    assert fine.status_code == 200, fine.text[:300]
