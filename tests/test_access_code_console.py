"""The console's "Send a new access code" (web/staff/access_code.py) over HTTP: the button where the API would
let the staff member act, a page saying who gets the code and how, the form token required; by post the
answer is the letter to print, holding a code that signs in; by e-mail the case page says it was sent."""

from __future__ import annotations

import html
import re

import httpx

from core.settings import Settings
from tests.api_helpers import bearer
from tests.staff_console import console, form_token, open_complaint, sign_in

__all__ = ["console"]

CODE = re.compile(r"Your access code: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})")


async def codes_of(client: httpx.AsyncClient, settings: Settings, reference: str) -> int:
    export = await client.get(
        f"/api/complaints/{reference}/personal-data", headers=bearer("maya.manager", settings)
    )
    assert export.status_code == 200, export.text
    return len(export.json()["resident_access"])


async def test_an_officer_prints_a_new_code_for_a_resident_written_to_by_post(
    console: tuple[httpx.AsyncClient, Settings],
) -> None:
    client, settings = console
    reference = await open_complaint(
        client,
        settings,
        channel="phone",
        complainant={"name": "Ada Resident", "address": "1 High Street", "preferred_contact": "letter"},
    )
    investigator = await sign_in(client, "ian.investigator")
    assert 'id="issue-access-code"' not in (await client.get(f"/staff/complaints/{reference}")).text
    refused = await client.get(f"/staff/complaints/{reference}/access-code")
    assert refused.status_code == 403
    assert (await client.post("/staff/sign-out", data={"csrf_token": investigator})).status_code == 303

    await sign_in(client, "olivia.officer")
    case = await client.get(f"/staff/complaints/{reference}")
    assert 'id="issue-access-code"' in case.text
    form = await client.get(f"/staff/complaints/{reference}/access-code")
    assert form.status_code == 200 and "Post: you will see the letter to print" in form.text
    assert "stops working" in form.text

    forged = await client.post(f"/staff/complaints/{reference}/access-code", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and await codes_of(client, settings, reference) == 0

    printed = await client.post(
        f"/staff/complaints/{reference}/access-code", data={"csrf_token": form_token(form.text)}
    )
    assert printed.status_code == 200, printed.text
    assert printed.headers["cache-control"] == "no-store"
    assert "only time the new access code is shown" in printed.text
    [code] = CODE.findall(html.unescape(printed.text))
    signed_in = await client.get(
        f"/api/public/complaints/{reference}", headers={"Authorization": f"Bearer {code}"}
    )
    assert signed_in.status_code == 200, signed_in.text


async def test_an_e_mailed_code_returns_to_the_case_page_saying_so(
    console: tuple[httpx.AsyncClient, Settings],
) -> None:
    client, settings = console
    reference = await open_complaint(client, settings)
    await sign_in(client, "maya.manager")
    form = await client.get(f"/staff/complaints/{reference}/access-code")
    assert "E-mail" in form.text
    sent = await client.post(
        f"/staff/complaints/{reference}/access-code", data={"csrf_token": form_token(form.text)}
    )
    assert sent.status_code == 303
    case = await client.get(sent.headers["location"])
    assert "New access code sent by e-mail" in case.text
    assert not CODE.findall(case.text)
