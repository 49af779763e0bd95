"""The resident pages over HTTP (no browser): markup basics, forms guarded against other sites, refusals and
the guess limit shown as pages. The journey itself runs in Chromium in test_resident_browser.py."""

from __future__ import annotations

import re

import httpx

from api.resident.ratelimit import MAX_FAILURES
from api.resident.tokens import form_key
from tests.test_residents import Stack, make, stack

__all__ = ["stack"]  # the fixture, imported so pytest finds it here


async def signed_in(client: httpx.AsyncClient, reference: str, token: str) -> None:
    response = await client.post("/complaint/track", data={"reference": reference, "token": token})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/complaint/{reference}"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/complaint" in cookie


async def test_pages_are_plain_accessible_html(stack: Stack) -> None:
    async with stack.client() as client:
        css = await client.get("/resident-static/resident.css")
        assert css.status_code == 200 and "govuk-button" in css.text
        for path in ("/", "/complaint/new", "/complaint/track", "/complaint/new-link"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert page.headers["content-type"].startswith("text/html")
            html = page.text
            assert '<html lang="en"' in html
            assert 'href="#main-content"' in html and 'id="main-content"' in html
            assert "<script" not in html
            for field in re.findall(r'<(?:input|textarea|select)[^>]*\bid="([^"]+)"', html):
                assert f'for="{field}"' in html, (path, field)


async def test_a_form_from_another_site_does_nothing(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        await signed_in(client, reference, token)
        forged = await client.post(f"/complaint/{reference}/withdraw", data={"reason": "forged"})
        assert forged.status_code == 303
        assert forged.headers["location"] == f"/complaint/{reference}"
        status = await stack.pool.fetchval("SELECT status FROM complaints WHERE reference = $1", reference)
        assert status != "withdrawn"

        page = await client.get(f"/complaint/{reference}")
        assert f'value="{form_key(token)}"' in page.text
        withdrawn = await client.post(
            f"/complaint/{reference}/withdraw", data={"reason": "Fixed", "form_key": form_key(token)}
        )
        assert withdrawn.status_code == 303
        assert withdrawn.headers["location"] == f"/complaint/{reference}?done=withdrawn"
        page = await client.get(withdrawn.headers["location"])
        assert "Your complaint has been withdrawn." in page.text
        assert "You withdrew your complaint." in page.text


async def test_a_refusal_is_shown_with_the_workflows_reason(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        await signed_in(client, reference, token)
        refused = await client.post(
            f"/complaint/{reference}/review", data={"reasons": "Early", "form_key": form_key(token)}
        )
        assert refused.status_code == 409
        assert "There is a problem" in refused.text
        assert "We could not accept your request for a review: cannot request escalation" in refused.text
        assert "<title>Error: " in refused.text
        # The form is not offered now: the message links to the complaint's status.
        assert '<a href="#status-text">We could not accept' in refused.text
        assert 'id="status-text"' in refused.text


async def test_the_created_page_and_the_track_link(stack: Stack) -> None:
    async with stack.client() as client:
        made = await client.post(
            "/complaint/new",
            data={
                "policy_id": "bexley",
                "name": "Ada Resident",
                "email": "ada@example.org",
                "phone": "",
                "service_area": "waste",
                "summary": "Bins not collected.",
                "desired_outcome": "",
            },
        )
        assert made.status_code == 303
        reference = made.headers["location"].split("/")[2]
        created = await client.get(made.headers["location"])
        token = re.search(r'<code id="access-code">([^<]+)</code>', created.text)
        assert token is not None
    async with stack.client() as elsewhere:
        # The e-mailed link: straight to the complaint, and the code leaves the address bar.
        link = await elsewhere.get("/complaint/track", params={"reference": reference, "token": token[1]})
        assert link.status_code == 303 and link.headers["location"] == f"/complaint/{reference}"
        page = await elsewhere.get(link.headers["location"])
        assert page.status_code == 200 and "Bins not collected." in page.text
        # Without the cookie, nothing.
    async with stack.client() as nobody:
        assert (await nobody.get(f"/complaint/{reference}")).status_code == 404
        assert (await nobody.get(f"/complaint/{reference}/created")).status_code == 404


async def test_too_many_wrong_codes_is_a_429_page(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        for _ in range(MAX_FAILURES):
            wrong = await client.post("/complaint/track", data={"reference": reference, "token": "z" * 43})
            assert wrong.status_code == 404
            assert "We could not find a complaint" in wrong.text
        limited = await client.post("/complaint/track", data={"reference": reference, "token": token})
        assert limited.status_code == 429
        assert "Too many attempts" in limited.text
        assert int(limited.headers["retry-after"]) > 0


async def test_new_link_page_answers_the_same_either_way(stack: Stack) -> None:
    async with stack.client() as client:
        reference, _ = await make(client)
        right = await client.post(
            "/complaint/new-link", data={"reference": reference, "email": "ada@example.org"}
        )
        wrong = await client.post(
            "/complaint/new-link", data={"reference": reference, "email": "x@example.org"}
        )
        assert right.status_code == wrong.status_code == 200
        assert "If this e-mail address is on the complaint" in right.text
        assert right.text.replace("ada@example.org", "") == wrong.text.replace("x@example.org", "")
        invalid = await client.post("/complaint/new-link", data={"reference": reference, "email": "nope"})
        assert invalid.status_code == 422 and "There is a problem" in invalid.text
