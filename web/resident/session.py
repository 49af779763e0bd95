"""The resident's page session: signing in (with the reference and access code, or the e-mailed link's
one-time code) opens one; its random secret, never a code, is kept in an HttpOnly, SameSite cookie (Secure per
`COOKIE_SECURE`) and checked again on every request, so a revoked session stops working at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Cookie, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.client_address import client_ip
from api.deps import ServicesDep
from api.errors import ProblemError
from api.resident import access
from api.resident.access import ResidentAccess
from api.resident.tokens import MAX_TOKEN_LENGTH, hash_token
from core.services import Services
from store.resident_access import ResidentAccessRepository
from web.resident.pages import not_found, refused_page

# The session's secret only (the cookie of the pages before sessions, `resident_access`, is simply ignored).
COOKIE = "resident_session"
COOKIE_PATH = "/complaint"

# A complaint page opened without signing in (a bookmark, a link from a letter): how to sign in, the same
# answer whether or not the reference exists.
SIGN_IN_HEADING = "Sign in to see your complaint"
SIGN_IN_MESSAGE = (
    "To see your complaint, sign in with your complaint reference and access code, or with the link we"
    " e-mailed you."
)


def set_session_cookie(response: Response, services: Services, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        # TLS usually ends at the council's proxy, so the scheme the app sees says nothing: a setting does.
        secure=services.settings.session_cookie_secure,
    )


@dataclass(frozen=True)
class SignedIn:
    """A resident signed in to the complaint of the page's path (a live page session)."""

    access: ResidentAccess
    session: str  # the cookie's secret: the pages' form key is derived from it


async def signed_in(
    reference: str,
    request: Request,
    services: ServicesDep,
    cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> SignedIn | HTMLResponse:
    """The complaint pages' dependency: the signed-in resident, or the page saying why not (not found,
    signed out, expired, too many attempts), which the page answers with instead."""
    if not cookie:
        return not_found(SIGN_IN_HEADING, SIGN_IN_MESSAGE)
    try:
        found = await access.session_access(
            services, reference=reference, session=cookie, client_ip=client_ip(request)
        )
    except ProblemError as error:
        return refused_page(error)
    return SignedIn(access=found, session=cookie)


SignedInPage = Annotated[SignedIn | HTMLResponse, Depends(signed_in)]


async def signed_in_to(services: Services, reference: str, cookie: str) -> bool:
    """Whether the cookie is a live session of this complaint (a look-up, not a guess: nothing counted)."""
    if len(cookie) > MAX_TOKEN_LENGTH:
        return False
    repository = ResidentAccessRepository(services.pool)
    found = await repository.find(token_hash=hash_token(cookie))
    return (
        found is not None
        and found.kind == "session"
        and found.reference == reference
        and found.usable_at(await repository.now())
    )


async def end_session(services: Services, cookie: str | None) -> None:
    """Ends the session on the server too (a shared computer keeps nothing that works)."""
    if cookie and len(cookie) <= MAX_TOKEN_LENGTH:
        repository = ResidentAccessRepository(services.pool)
        found = await repository.find(token_hash=hash_token(cookie))
        if found is not None and found.kind == "session":
            await repository.revoke(token_id=found.id)
