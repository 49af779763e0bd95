"""No access code, link code or session secret ever reaches a log line.

The real app is served by uvicorn (with its access log on, as `make run` and the Docker image run it) in
this test's event loop, over the real database and Temporal test server with a worker. A resident's whole
journey goes through it over HTTP: the JSON API with a bearer code, the e-mailed link (whose query string
the access log writes), the pages with their session cookie, an old-style link with the access code in it,
a staff search by name. Every log record of every logger is captured, formatted, and searched.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.resident.tokens import form_key
from api.routes.resident_pages import COOKIE
from domain.policy import Policy
from tests.api_helpers import bearer, settings_for
from tests.logged_app import Captured, served_with_logs
from tests.test_residents import complaint, latest_link, new_email


@pytest.fixture
async def served(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[tuple[str, Captured]]:
    async with served_with_logs(temporal_env, pool, policies, task_queue, settings_for(task_queue)) as served:
        yield served


async def test_a_residents_journey_leaves_no_code_in_the_logs(
    served: tuple[str, Captured], pool: asyncpg.Pool, task_queue: str
) -> None:
    base, captured = served
    # Over real HTTP to a live server: the first complaint may take more than httpx's default 5 s on a
    # loaded machine (the full suite timed out here once).
    secrets: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as api:
        # The JSON API: make a complaint, read it with the access code as a bearer token.
        email = new_email()
        made = await api.post("/api/public/complaints", json=complaint(email=email))
        assert made.status_code == 201, made.text
        reference, token = made.json()["reference"], made.json()["access_token"]
        secrets.append(token)
        read = await api.get(
            f"/api/public/complaints/{reference}", headers={"Authorization": f"Bearer {token}"}
        )
        assert read.status_code == 200
        # A link's one-time code, exchanged by an API client for a new access code.
        first_code = (await latest_link(pool, reference))["code"]
        secrets.append(first_code)
        exchanged = await api.post(
            f"/api/public/complaints/{reference}/access-token", json={"code": first_code}
        )
        assert exchanged.status_code == 201
        secrets.append(exchanged.json()["access_token"])
        # A wrong code too (in a link, as a bearer token): neither is written down.
        wrong = "Wrong-code-" + "q" * 32
        secrets.append(wrong)
        await api.get("/complaint/track", params={"reference": reference, "code": wrong})
        await api.get(f"/api/public/complaints/{reference}", headers={"Authorization": f"Bearer {wrong}"})

    async with httpx.AsyncClient(base_url=base, timeout=60) as browser:
        # A new link by e-mail, opened (its code in the query string), then Continue: a session cookie.
        asked = await browser.post("/complaint/new-link", data={"reference": reference, "email": email})
        assert asked.status_code == 200
        link = await latest_link(pool, reference)
        secrets.append(link["code"])
        opened = await browser.get(f"/complaint/track?{urlencode(link)}")
        assert opened.status_code == 200
        signed = await browser.post("/complaint/track", data=link)
        assert signed.status_code == 303
        session = browser.cookies[COOKIE]
        secrets.append(session)
        page = await browser.get(f"/complaint/{reference}")
        assert page.status_code == 200
        sent = await browser.post(
            f"/complaint/{reference}/information",
            data={"summary": "Photos to follow.", "form_key": form_key(session)},
        )
        assert sent.status_code == 303
        # An old link, from before one-time codes, with the access code itself in the query string.
        old = await browser.get("/complaint/track", params={"reference": reference, "token": token})
        assert old.status_code == 303  # already signed in here: straight to the complaint
        await browser.post("/complaint/sign-out")

    async with httpx.AsyncClient(base_url=base, timeout=60) as staff:
        # A staff search by the complainant's name: personal data in a query string, kept out too.
        headers = bearer("olivia.officer", settings_for(task_queue))
        found = await staff.get("/api/complaints", params={"q": "Ada Resident"}, headers=headers)
        assert found.status_code == 200

    lines = "\n".join(captured.lines)
    # The capture saw the access log, query strings included, so the search below means something.
    assert re.search(rf'"GET /complaint/track\?reference={reference}&code=\[redacted\] HTTP/1.1" 200', lines)
    assert "token=[redacted]" in lines and "q=[redacted]" in lines
    assert f"POST /api/public/complaints/{reference}/access-token" in lines
    for secret in secrets:
        assert secret not in lines, [line[:300] for line in captured.lines if secret in line]
    assert "Ada Resident" not in lines and "Ada+Resident" not in lines and email not in lines
