"""The dev stack's token endpoint: a demo user's name and password for a bearer token (development and test
only; api/development.py leaves it out of a production app, whose tokens come from the identity provider)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.auth import issue_dev_token
from api.deps import Pool, SettingsDep
from api.errors import PROBLEM_RESPONSES, ProblemError
from store.staff import StaffRepository

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/token", responses=PROBLEM_RESPONSES)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], pool: Pool, settings: SettingsDep
) -> Token:
    """Exchange a demo user's name and password for a bearer token (ENVIRONMENT=development only)."""
    if settings.environment != "development" or settings.oidc_jwks_url:
        raise ProblemError(404, "Not found", "tokens come from the council's identity provider")
    user = await StaffRepository(pool).authenticate(user_id=form.username, password=form.password)
    if user is None:
        raise ProblemError(401, "Not authenticated", "unknown user or wrong password")
    return Token(access_token=issue_dev_token(user, settings))
