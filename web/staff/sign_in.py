"""Signing in and out of the console. In development the sign-in page is a form for the demo users
(web/staff/dev_sign_in.py, mounted only there); with an identity provider it is a button that starts the
OpenID Connect authorisation code flow (web/staff/oidc.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from core.settings import Settings
from web.layout import page
from web.staff.common import services_of
from web.staff.session import (
    StaffSession,
    check_form,
    current_session,
    end_session,
    keep_sign_in_token,
    sign_in_token,
    signed_in,
)

router = APIRouter(prefix="/staff", include_in_schema=False)
HOME = "/staff/queues/mine"


def dev_sign_in_enabled(settings: Settings) -> bool:
    """The demo users' form: as the API's dev token endpoint (api/routes/dev_token.py), in development only
    (issue 29: not with ENVIRONMENT=test either) and never with an identity provider configured."""
    return settings.environment == "development" and not settings.oidc_jwks_url


def sign_in_page(request: Request, status_code: int = 200, **context: object) -> Response:
    settings = services_of(request).settings
    dev = dev_sign_in_enabled(settings)
    token = sign_in_token(request)
    response = page(
        "staff/sign_in.html",
        status_code,
        dev=dev,
        csrf=token,
        oidc_ready=bool(settings.oidc_client_id and settings.oidc_issuer),
        **{"errors": {}, "username": "", **context},
    )
    if dev:
        keep_sign_in_token(response, token, settings.staff_cookie_secure)
    return response


@router.get("/")
async def start(request: Request, signed_out: bool = False) -> Response:
    if await current_session(request) is not None:
        return RedirectResponse(HOME, status_code=303)
    return sign_in_page(request, signed_out=signed_out)


@router.post("/sign-out")
async def sign_out(
    request: Request,
    session: Annotated[StaffSession, Depends(signed_in)],
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_form(session, csrf_token)
    response = RedirectResponse("/staff/?signed_out=true", status_code=303)
    await end_session(request, response)
    return response
