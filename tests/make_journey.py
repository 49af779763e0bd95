"""Making a complaint as a resident does: the question pages of `/complaint/make` (one question a page), then
"Check your answers", then "Send complaint". Shared by the HTTP tests of the resident's journey, so that a
test names only the answers it is about (`walk(client, answers(name="A"))`).

The pages asked, and the fields each sends, are the app's own (api/resident/make/questions.py): the helper
follows the server's branching (where each answer leads) rather than a list of its own, so a page the answers
do not ask is never posted.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

import httpx

from api.resident.make.questions import BY_SLUG, QUESTIONS

START = "/complaint/make"
CHECK = "/complaint/make/check"


def new_email() -> str:
    return f"resident-{random.randrange(10**9)}@example.org"  # as tests/test_residents.py's


def answers(**overrides: Any) -> dict[str, Any]:
    """A complaint for oneself to Bexley, every required question answered (a new e-mail address each time:
    complaints per address are limited, and tests share the database). A list field (the support asked
    for) may be a list."""
    given: dict[str, Any] = {
        "policy_id": "bexley",
        "on_behalf": "no",
        "name": "Ada Resident",
        "email": new_email(),
        "phone": "",
        "address": "",
        "service_area": "housing-repairs",
        "tenure": "",
        "summary": "Damp in the bedroom reported three times and not fixed.",
        "desired_outcome": "",
    }
    return given | overrides


def page_data(slug: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """What the question page `slug` sends for these answers (a field not given is sent empty; an empty list
    field is not sent, as a browser sends no unticked box)."""
    question = BY_SLUG[slug]
    data: dict[str, Any] = {}
    for field in question.fields:
        value = given.get(field, [] if field in question.lists else "")
        if field in question.lists:
            value = [value] if isinstance(value, str) else list(value)
            if value:
                data[field] = value
        else:
            data[field] = value
    return data


async def begin(client: httpx.AsyncClient, policy_id: str | None = None) -> str:
    """Start a complaint (a cookie kept by the client: the first answer makes the draft); the first question's
    address."""
    started = await client.get(START, params={"policy_id": policy_id} if policy_id else None)
    assert started.status_code == 303, started.text
    return str(started.headers["location"])


async def post_page(client: httpx.AsyncClient, slug: str, data: Mapping[str, Any]) -> httpx.Response:
    """Answer one question page of the draft already begun (its answer refused: a 422 with the page)."""
    return await client.post(f"{START}/{slug}", data=data)


async def walk(client: httpx.AsyncClient, given: Mapping[str, Any]) -> httpx.Response:
    """Begin a complaint and answer every question the answers lead to, in the order the server asks them.
    The check-answers page, or the first page that refused its answer (422), or the page checking the
    answers sent the resident back to, showing the problem."""
    location = await begin(client, str(given.get("policy_id") or "") or None)
    for _ in range(len(QUESTIONS) + 1):
        if location == CHECK:
            checking = await client.get(CHECK)
            if checking.status_code == 303:  # an answer with a problem: its page, showing the problem
                return await client.get(checking.headers["location"])
            return checking
        slug = location.removeprefix(START + "/")
        sent = await post_page(client, slug, page_data(slug, given))
        if sent.status_code != 303:
            return sent
        location = str(sent.headers["location"])
    raise AssertionError(f"the question pages never reached {CHECK}")


async def send(client: httpx.AsyncClient) -> httpx.Response:
    """Press "Send complaint" on the check-answers page."""
    return await client.post(CHECK)


async def make_on_pages(client: httpx.AsyncClient, given: Mapping[str, Any]) -> httpx.Response:
    """Walk the question pages and send the complaint; the confirmation page (or the refusal shown)."""
    checking = await walk(client, given)
    assert checking.status_code == 200, (checking.status_code, checking.text[:3000])
    return await send(client)


def reference_of(page: str) -> str:
    """The reference the confirmation panel shows."""
    found = re.search(r'<strong id="reference">([^<]+)</strong>', page)
    assert found is not None, page[:3000]
    return found[1]


def access_code_of(page: str) -> str | None:
    """The access code the confirmation shows once (none where nothing opens the complaint yet)."""
    found = re.search(r'<code id="access-code">([^<]+)</code>', page)
    return None if found is None else found[1]


def error_summary(page: str) -> dict[str, str]:
    """The error summary's links: the field each goes to, and its message."""
    listed = page.split("govuk-error-summary__list", 1)[-1].split("</ul>", 1)[0]
    return {
        field: " ".join(message.split())
        for field, message in re.findall(r'<a href="#([A-Za-z_-]+)"[^>]*>([^<]+)</a>', listed)
    }
