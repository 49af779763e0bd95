"""Staff users of the dev stack's token endpoint (production identities come from the council's IdP)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from pydantic import BaseModel

from domain.models import Role
from store.complaints import Executor

# scrypt from the standard library: a memory-hard password hash, no extra dependency needed.
_N, _R, _P = 2**14, 8, 1


class StaffUser(BaseModel):
    id: str
    name: str
    role: Role
    # Need-to-know: the service areas this person deals with; None sees every area.
    service_areas: list[str] | None = None

    def may_see_area(self, area: str) -> bool:
        return self.service_areas is None or area in self.service_areas


DEMO_STAFF: list[StaffUser] = [
    StaffUser(id="olivia.officer", name="Olivia Officer", role=Role.COMPLAINTS_OFFICER),
    StaffUser(id="ian.investigator", name="Ian Investigator", role=Role.INVESTIGATOR),
    StaffUser(id="ines.investigator", name="Ines Investigator", role=Role.INVESTIGATOR),
    StaffUser(id="rita.reviewer", name="Rita Reviewer", role=Role.REVIEWER),
    StaffUser(id="maya.manager", name="Maya Manager", role=Role.MANAGER),
    StaffUser(id="adam.admin", name="Adam Admin", role=Role.ADMIN),
    StaffUser(id="aude.auditor", name="Aude Auditor", role=Role.AUDITOR),
]


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        _, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=_N, r=_R, p=_P)
    return hmac.compare_digest(digest.hex(), digest_hex)


@functools.cache
def _unknown_user_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


class StaffRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def upsert(self, *, user: StaffUser, password: str) -> None:
        await self._db.execute(
            "INSERT INTO staff_users (id, name, role, password_hash) VALUES ($1, $2, $3, $4)"
            # A demo user deals with every area until a sign-in says otherwise (migration 450).
            " ON CONFLICT (id) DO UPDATE SET name = $2, role = $3, password_hash = $4, service_areas = NULL",
            user.id,
            user.name,
            user.role.value,
            hash_password(password),
        )

    async def authenticate(self, *, user_id: str, password: str) -> StaffUser | None:
        row = await self._db.fetchrow(
            "SELECT id, name, role, password_hash FROM staff_users WHERE id = $1", user_id
        )
        # An unknown name (or one without a password) costs the same scrypt as a wrong password, so the
        # answer's timing does not tell which user names exist.
        stored = row["password_hash"] if row is not None and row["password_hash"] else _unknown_user_hash()
        if not password_matches(password, stored) or row is None or not row["password_hash"]:
            return None
        return StaffUser(id=row["id"], name=row["name"], role=Role(row["role"]))

    async def record_seen(self, *, user: StaffUser) -> None:
        """Put a staff member signed in through the identity provider in the directory (so they can be
        assigned complaints), or refresh their name, role and service areas; no password (it never matches
        one)."""
        await self._db.execute(
            "INSERT INTO staff_users (id, name, role, password_hash, service_areas)"
            " VALUES ($1, $2, $3, '', $4)"
            " ON CONFLICT (id) DO UPDATE SET name = $2, role = $3, service_areas = $4"
            " WHERE staff_users.name IS DISTINCT FROM $2 OR staff_users.role IS DISTINCT FROM $3"
            " OR staff_users.service_areas IS DISTINCT FROM $4::text[]",
            user.id,
            user.name,
            user.role.value,
            user.service_areas,
        )

    async def areas_of(self, *, user_id: str) -> list[str] | None:
        """The service areas the directory knows this person deals with (None: every area, or unknown)."""
        areas: list[str] | None = await self._db.fetchval(
            "SELECT service_areas FROM staff_users WHERE id = $1", user_id
        )
        return areas

    async def roles_of(self, *, user_ids: list[str]) -> dict[str, Role]:
        rows = await self._db.fetch("SELECT id, role FROM staff_users WHERE id = ANY($1::text[])", user_ids)
        return {row["id"]: Role(row["role"]) for row in rows}
