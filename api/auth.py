"""Bearer tokens for staff: HS256 tokens from the dev token endpoint, or the council's OIDC tokens
verified against its JWKS in production."""

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


class InvalidToken(Exception):
    pass


def issue_dev_token(user: StaffUser, settings: Settings, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    claims = {
        "sub": user.id,
        "name": user.name,
        "role": user.role.value,
        "iss": DEV_ISSUER,
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


def verify(token: str, settings: Settings) -> StaffUser:
    """The staff member a token names, or InvalidToken."""
    try:
        if settings.oidc_jwks_url:
            key = _jwks_client(settings.oidc_jwks_url).get_signing_key_from_jwt(token).key
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256", "ES256"],
                audience=settings.oidc_audience,
                issuer=settings.oidc_issuer,
            )
        else:
            claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], issuer=DEV_ISSUER)
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    role = claims.get("role") or next(iter(claims.get("roles") or []), None)
    try:
        user = StaffUser(id=str(claims["sub"]), name=str(claims.get("name", "")), role=Role(str(role)))
    except (KeyError, ValueError) as error:
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
