"""Development only: the demo users sign in to the console with their name and password (as the API's dev
token endpoint issues them tokens). web/staff/__init__.py imports this module only where
`dev_sign_in_enabled` says so, never in production."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import issue_dev_token, verify
from store.staff import StaffRepository
from web.staff.common import services_of
from web.staff.session import check_sign_in_form, open_session
from web.staff.sign_in import HOME, dev_sign_in_enabled, sign_in_page

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    services = services_of(request)
    check_sign_in_form(request, csrf_token)
    assert dev_sign_in_enabled(services.settings)  # mounted only then
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"
    user = None
    if not errors:
        user = await StaffRepository(services.pool).authenticate(user_id=username.strip(), password=password)
        if user is None:
            errors["username"] = "The username or password is not right"
    if user is None:
        return sign_in_page(
            request,
            401 if "username" in errors and len(errors) == 1 else 422,
            errors=errors,
            username=username,
        )
    # The same path as an API call: a token with the API's claims, read back by the API's verifier, so the
    # console's staff member has exactly the role and service areas the API would give them.
    staff = verify(issue_dev_token(user, services.settings), services.settings)
    response = RedirectResponse(HOME, status_code=303)
    await open_session(services.pool, staff, services.settings, response)
    return response
