"""Issue 29 (11), residents: others cannot spend a resident's allowance of new links with made-up references,
and the resident pages refuse a form posted from another site (login CSRF) and carry a
Content-Security-Policy that forbids framing."""

from __future__ import annotations

import re

from tests.test_residents import Stack, made_up_reference, make, new_email, stack

__all__ = ["stack"]


async def test_bogus_references_do_not_spend_a_residents_link_allowance(stack: Stack) -> None:
    app = stack.app_with(resident_link_requests_per_email=2, resident_link_requests_per_address=100)
    email = new_email()
    async with stack.client() as client:
        reference, _ = await make(client, email=email)
    for _ in range(5):  # someone who knows the address, from anywhere, with references of their own making
        async with stack.client(app=app) as other:
            bogus = await other.post(
                f"/api/public/complaints/{made_up_reference()}/access-link", json={"email": email}
            )
            assert bogus.status_code == 202
    queued = "SELECT count(*) FROM notifications WHERE reference = $1 AND template = 'access_link'"
    before = await stack.pool.fetchval(queued, reference)
    async with stack.client(app=app) as resident:
        asked = await resident.post(f"/api/public/complaints/{reference}/access-link", json={"email": email})
        assert asked.status_code == 202
    assert await stack.pool.fetchval(queued, reference) == before + 1


async def test_a_sign_in_or_complaint_form_posted_from_another_site_is_refused(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        evil = {"Origin": "https://evil.example"}
        signed = await client.post(
            "/complaint/track", data={"reference": reference, "token": token}, headers=evil
        )
        assert signed.status_code == 403 and "set-cookie" not in signed.headers
        for page in ("/complaint/make/who-for", "/complaint/make/check"):
            made = await client.post(page, data={"on_behalf": "no"}, headers={"Sec-Fetch-Site": "cross-site"})
            assert made.status_code == 403, page
        own = await client.post(
            "/complaint/track",
            data={"reference": reference, "token": token},
            headers={"Origin": "http://test"},
        )
        assert own.status_code == 303, own.text
        # Chromium's own forms under `Referrer-Policy: no-referrer` say `Origin: null`: same-origin passes,
        # a null origin from anywhere else (or saying nothing of where it came from) does not.
        credentials = {"reference": reference, "token": token}
        for site, expected in (("same-origin", 303), ("cross-site", 403), (None, 403)):
            headers = {"Origin": "null", **({"Sec-Fetch-Site": site} if site else {})}
            answer = await client.post("/complaint/track", data=credentials, headers=headers)
            assert answer.status_code == expected, (site, answer.status_code)


async def test_the_pages_carry_a_content_security_policy_that_forbids_framing(stack: Stack) -> None:
    async with stack.client() as client:
        page = await client.get("/complaint/make", follow_redirects=True)  # its first question page
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert page.headers["x-frame-options"] == "DENY"
        docs = await client.get("/docs")
        assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


async def test_the_api_docs_load_no_script_from_another_site(stack: Stack) -> None:
    async with stack.client() as client:
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
            assert scripts and all(src.startswith("/docs-static/") for src in scripts), scripts
            assert "cdn" not in html.lower() and "fonts.googleapis" not in html
        assert (await client.get("/docs-static/swagger-ui-bundle.js")).status_code == 200


async def test_the_staff_console_carries_the_same_content_security_policy(stack: Stack) -> None:
    """Issue 29 (11): the console's pages (a session that acts on every complaint) load only their own
    scripts and styles, as the resident pages do, and are never framed."""
    async with stack.client() as client:
        page = await client.get("/staff/")
        assert page.status_code == 200, page.text
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy and page.headers["x-frame-options"] == "DENY"
