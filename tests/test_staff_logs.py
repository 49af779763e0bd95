"""No personal data from the console reaches a log line or a URL. The real app is served by uvicorn with its
access log on; an officer signs in, searches a queue by the complainant's name, opens the case, reads a
letter, adds a note that names the complainant and downloads the queue as CSV. Every log record of every
logger is captured and searched for the complainant's name, e-mail address, story and the note; every URL
the pages carry (links, form actions, redirects) is searched too. The one exception is the staff member's
own search term (`?q=`), which the search puts in its URL as the issue asks: the access log redacts it."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.policy import Policy
from tests.api_helpers import PASSWORD, bearer, complaint_body, settings_for
from tests.logged_app import Captured, served_with_logs
from tests.staff_console import form_token

URL = re.compile(r'(?:href|action|src)="([^"]*)"')


@pytest.fixture
async def served(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[tuple[str, Captured, str]]:
    # Development: the demo users' sign-in form exists only there (issue 29).
    settings = settings_for(task_queue).model_copy(
        update={"cookie_secure": False, "environment": "development"}
    )
    async with served_with_logs(temporal_env, pool, policies, task_queue, settings) as (base, captured):
        token = bearer("olivia.officer", settings)
        yield base, captured, token["Authorization"]


def urls_in(response: httpx.Response) -> list[str]:
    found = URL.findall(response.text) if "html" in response.headers.get("content-type", "") else []
    if "location" in response.headers:
        found.append(response.headers["location"])
    # The staff member's own search term is left out: it is the search's URL (redacted in the access log).
    return [
        "&".join(f"{name}={value}" for name, value in parse_qsl(urlsplit(url).query) if name != "q")
        + urlsplit(url).path
        for url in found
    ]


async def test_the_console_puts_no_personal_data_in_logs_or_urls(served: tuple[str, Captured, str]) -> None:
    base, captured, authorization = served
    surname = f"Privatesurname{random.randrange(10**6)}"
    name, email = f"Ada {surname}", f"{surname.lower()}@example.org"
    story = "The damp in the nursery came back after the visit."
    note = f"Phoned {name} about the nursery."
    personal = [surname, email, "nursery", note]
    urls: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        made = await client.post(
            "/api/complaints",
            json=complaint_body(complainant={"name": name, "email": email}, summary=story),
            headers={"Authorization": authorization},
        )
        reference = made.json()["reference"]
        start = await client.get("/staff/")
        signed = await client.post(
            "/staff/sign-in",
            data={"username": "olivia.officer", "password": PASSWORD, "csrf_token": form_token(start.text)},
        )
        for response in (start, signed):
            urls += urls_in(response)
        queue = await client.get("/staff/queues/unassigned", params={"q": surname})
        assert reference in queue.text
        case = await client.get(f"/staff/complaints/{reference}")
        assert surname in case.text
        form = await client.get(f"/staff/complaints/{reference}/act/add-note")
        seq = re.search(r'name="seq" value="(\d+)"', form.text)
        assert seq
        added = await client.post(
            f"/staff/complaints/{reference}/act/add-note",
            data={"csrf_token": form_token(form.text), "seq": seq.group(1), "text": note},
        )
        assert added.status_code == 303
        done = await client.get(added.headers["location"])
        letter_links = re.findall(rf'href="(/staff/complaints/{reference}/letters/[^"]+)"', done.text)
        letters = [await client.get(link) for link in letter_links]
        exported = await client.get("/staff/export/unassigned.csv", params={"q": surname})
        assert surname in exported.text
        for response in (queue, case, form, added, done, *letters, exported):
            assert response.status_code in (200, 303), response.url
            urls += urls_in(response)
    await asyncio.sleep(0.1)  # the access log line of the last request
    assert urls and any(reference in url for url in urls)
    for secret in personal:
        assert not [url for url in urls if secret.lower() in url.lower()], secret
        assert not [line for line in captured.lines if secret.lower() in line.lower()], secret
    access = [line for line in captured.lines if "/staff/queues/unassigned" in line]
    assert access and all("q=[redacted]" in line for line in access if "q=" in line)
