"""Issue 29 (11): the dev token endpoint answers only with ENVIRONMENT=development, and an unknown user name
costs the same password hashing as a wrong password (its timing tells nothing)."""

from __future__ import annotations

import asyncpg
import pytest

import store.staff
from store.staff import DEMO_STAFF, StaffRepository


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
