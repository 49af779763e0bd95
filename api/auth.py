"""Bearer tokens for staff: HS256 tokens from the dev token endpoint, or the council's OIDC tokens
verified against its JWKS in production.

Production fails closed: only the identity provider's tokens (RS256/ES256, verified issuer and audience) are
accepted, never HS256, and every token must carry `exp`, `iat` and `sub`. The staff member's id (what
conflict-of-interest checks, assignment and the audit trail compare) is read from STAFF_ID_CLAIM (`sub` by
default; e.g. `preferred_username` when the provider's `sub` is an opaque id).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt

from core.settings import Settings
from domain.models import Role
from store.staff import StaffUser

DEV_ISSUER = "complaints-dev"
TOKEN_LIFETIME = timedelta(hours=8)
# A token without an expiry, an issue time or a subject is refused, in every environment.
REQUIRED_CLAIMS = ["exp", "iat", "sub"]


class InvalidToken(Exception):
    pass


def issue_dev_token(user: StaffUser, settings: Settings, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": user.id,
        "name": user.name,
        "role": user.role.value,
        "iss": DEV_ISSUER,
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
    }
    claims[settings.staff_id_claim] = user.id
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


def verify(token: str, settings: Settings) -> StaffUser:
    """The staff member a token names, or InvalidToken."""
    try:
        if settings.oidc_jwks_url or settings.environment == "production":
            if not (settings.oidc_jwks_url and settings.oidc_issuer and settings.oidc_audience):
                # Settings refuse to load like this in production; a hand-built one still signs no one in.
                raise InvalidToken("sign-in is not configured (OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JWKS_URL)")
            key = _jwks_client(settings.oidc_jwks_url).get_signing_key_from_jwt(token).key
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256", "ES256"],
                audience=settings.oidc_audience,
                issuer=settings.oidc_issuer,
                options={"require": REQUIRED_CLAIMS},
            )
        else:
            claims = jwt.decode(
                token,
                settings.jwt_secret,
                algorithms=["HS256"],
                issuer=DEV_ISSUER,
                options={"require": REQUIRED_CLAIMS},
            )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    staff_id = claims.get(settings.staff_id_claim)
    if not isinstance(staff_id, str) or not staff_id.strip():
        raise InvalidToken(f"token has no {settings.staff_id_claim!r} claim naming the staff member")
    role = claims.get("role") or next(iter(claims.get("roles") or []), None)
    try:
        user = StaffUser(id=staff_id, name=str(claims.get("name", "")), role=Role(str(role)))
    except ValueError as error:
        raise InvalidToken("token has no known staff role") from error
    return user.model_copy(update={"service_areas": service_areas_of(user.id, claims, settings)})


def service_areas_of(user_id: str, claims: dict[str, Any], settings: Settings) -> list[str] | None:
    """Need-to-know: the areas configured for this person (STAFF_SERVICE_AREAS), else the identity
    provider's `service_areas` claim, else None (every area)."""
    if user_id in settings.staff_service_areas:
        return list(settings.staff_service_areas[user_id])
    claimed = claims.get("service_areas")
    if claimed is None:
        return None
    if isinstance(claimed, str):
        claimed = [part for part in claimed.replace(",", " ").split() if part]
    if not isinstance(claimed, list):
        raise InvalidToken("service_areas claim must be a list")
    return [str(area) for area in claimed]
