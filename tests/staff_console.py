"""Helpers for the staff console's tests: signing in through the dev form, reading the form token, and
complaints opened through the API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.services import Services
from core.settings import Settings
from domain.actions import ACTIONS
from domain.policy import Policy
from store.staff import DEMO_STAFF, StaffRepository
from tests.api_helpers import PASSWORD, bearer, complaint_body, settings_for
from tests.factories import running_worker


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token in the page"
    return found.group(1)


def buttons(html: str) -> set[str]:
    """The actions a case page offers: its buttons' `data-action`."""
    return set(re.findall(r'data-action="([a-z_]+)"', html))


async def refused_by_the_api(
    client: httpx.AsyncClient, settings: Settings, reference: str, user: str, name: str
) -> str | None:
    """Action `name` taken through the API by `user` with its command's example, which the API must refuse:
    None for the role (403), the reason for the complaint's situation (409)."""
    example = ACTIONS[name].command.model_json_schema().get("examples", [{}])[0]
    refused = await client.post(
        f"/api/complaints/{reference}/{name.replace('_', '-')}", json=example, headers=bearer(user, settings)
    )
    assert refused.status_code in (403, 409), (user, name, refused.text)
    if refused.status_code == 403:
        return None
    detail: str = refused.json()["detail"]
    return detail


async def sign_in(client: httpx.AsyncClient, user: str) -> str:
    """Sign in on the dev form; the session's form token (from the next page)."""
    start = await client.get("/staff/")
    assert start.status_code == 200, start.text
    answer = await client.post(
        "/staff/sign-in", data={"username": user, "password": PASSWORD, "csrf_token": form_token(start.text)}
    )
    assert answer.status_code == 303, answer.text
    queue = await client.get(answer.headers["location"])
    assert queue.status_code == 200, queue.text
    return form_token(queue.text)


async def open_complaint(client: httpx.AsyncClient, settings: Settings, **overrides: Any) -> str:
    response = await client.post(
        "/api/complaints", json=complaint_body(**overrides), headers=bearer("olivia.officer", settings)
    )
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


@pytest.fixture
async def console(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """The app as the api fixture builds it, with the console's cookie not Secure: the client speaks plain
    HTTP to it (the cookie's Secure flag outside development is checked on its own)."""
    async with console_app(temporal_env, pool, policies, task_queue) as running:
        yield running


@asynccontextmanager
async def console_app(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    *,
    cookie_secure: bool = False,
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """The console's app and a worker over these policies (a test's own variant of a council's file), run
    with ENVIRONMENT=development: the demo users' sign-in form exists only there (issue 29)."""
    settings = settings_for(task_queue).model_copy(
        update={"cookie_secure": cookie_secure, "environment": "development"}
    )
    repository = StaffRepository(pool)
    for user in DEMO_STAFF:
        await repository.upsert(user=user, password=PASSWORD)
    services = Services(settings=settings, pool=pool, temporal=temporal_env.client, policies=policies)
    async with running_worker(temporal_env, pool, policies, task_queue):
        transport = httpx.ASGITransport(app=create_app(settings, services), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, settings
