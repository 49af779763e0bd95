"""Issue 29 (review): the managers' dashboard leaves out the complaints closed to its reader (a declared
conflict of interest), as every report does; everyone else's counts are unchanged."""

from __future__ import annotations

import re

import httpx

from core.settings import Settings
from tests.api_helpers import bearer
from tests.staff_console import console, open_complaint, sign_in

__all__ = ["console"]


def _open_in(page: str, area: str) -> int:
    """The open count of `area`'s row on the dashboard (0: no row)."""
    found = re.search(
        rf"service_area={area}\">{area}</a></td><td class=\"govuk-table__cell govuk-table__cell--numeric\">"
        r"(\d[\d,]*)</td>",
        page,
    )
    return int(found.group(1).replace(",", "")) if found else 0


async def _board(client: httpx.AsyncClient, user: str) -> str:
    client.cookies.clear()
    await sign_in(client, user)
    board = await client.get("/staff/dashboard")
    assert board.status_code == 200, board.text
    return board.text


async def test_the_dashboard_leaves_out_a_complaint_closed_to_its_reader(
    console: tuple[httpx.AsyncClient, Settings],  # noqa: F811
) -> None:
    client, settings = console
    references = [await open_complaint(client, settings, service_area="planning") for _ in range(2)]
    before, admins_before = (
        _open_in(await _board(client, "maya.manager"), "planning"),
        _open_in(await _board(client, "adam.admin"), "planning"),
    )
    assert before >= 2
    declared = await client.post(
        f"/api/complaints/{references[0]}/conflict", headers=bearer("maya.manager", settings)
    )
    assert declared.status_code == 201, declared.text
    assert _open_in(await _board(client, "maya.manager"), "planning") == before - 1
    assert _open_in(await _board(client, "adam.admin"), "planning") == admins_before
