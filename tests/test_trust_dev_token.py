"""Issue 29 (11): the dev token endpoint and the console's demo sign-in form answer only with
ENVIRONMENT=development, and an unknown user name costs the same password hashing as a wrong password (its
timing tells nothing)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

import store.staff
from api.main import create_app
from core.settings import Settings
from store.staff import DEMO_STAFF, StaffRepository
from web.staff.sign_in import dev_sign_in_enabled


async def test_an_unknown_user_name_is_hashed_like_a_wrong_password(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = StaffRepository(pool)
    await repository.upsert(user=DEMO_STAFF[0], password="right")
    checked: list[str] = []
    original = store.staff.password_matches

    def counting(password: str, stored: str) -> bool:
        checked.append(stored)
        return original(password, stored)

    monkeypatch.setattr(store.staff, "password_matches", counting)
    assert await repository.authenticate(user_id="no-such-user", password="x") is None
    assert await repository.authenticate(user_id=DEMO_STAFF[0].id, password="wrong") is None
    assert len(checked) == 2 and all(stored.startswith("scrypt$") for stored in checked)
    assert await repository.authenticate(user_id=DEMO_STAFF[0].id, password="right") is not None


@pytest.mark.parametrize("environment", ["test", "production"])
async def test_the_consoles_demo_sign_in_answers_404_outside_development(environment: str) -> None:
    """As the API's dev token endpoint: outside development the demo users' form is not there. (Production's
    settings demand an identity provider, which turns the form off on its own: `model_copy` skips that
    check, so this proves the environment alone does.)"""
    development = Settings(environment="development", database_url="postgresql://x", temporal_address="x:1")
    assert dev_sign_in_enabled(development)  # the console tests sign in there (tests/staff_console.py)
    settings = development.model_copy(update={"environment": environment})
    assert not dev_sign_in_enabled(settings)
    transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        form = await client.post("/staff/sign-in", data={"username": "maya.manager", "password": "x"})
        assert form.status_code == 404, form.text
