"""Signing in to a complaint: the reference with the access code typed in (short, in any case, with or
without its dashes: `api/resident/tokens.py`), or the e-mailed link (its one-time code, used up when the
resident presses Continue, so a mail scanner fetching the link does not spend it); signing out; asking for a
new link. A right code always works, however many wrong ones were tried before (`api/resident/ratelimit.py`).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Cookie, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.client_address import client_ip
from api.deps import ServicesDep
from api.errors import ProblemError
from api.resident import access
from api.resident.access import ACCESS_LINK_ANSWER
from api.resident.bodies import AccessLinkRequest
from api.resident.tokens import MAX_TOKEN_LENGTH
from core.services import Services
from web.resident.pages import NOT_FOUND_MESSAGE, refused_page, render, see_other, too_many_page
from web.resident.session import COOKIE, COOKIE_PATH, end_session, set_session_cookie, signed_in_to

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]
EMAIL_FORMAT = "Enter an e-mail address in the correct format, like name@example.com"
# A reference as the service writes it (store.complaints.next_reference), the only one a link page shows.
LINK_REFERENCE = re.compile(r"CMP-\d{4}-\d{6,}", re.IGNORECASE)
# What a resident types between a reference's parts instead of its hyphen: spaces, or a dash a document made.
_REFERENCE_GAPS = re.compile(r"[\s\u2010-\u2015\u2212_]+")


def typed_reference(typed: str) -> str:
    """A reference as typed ("cmp 2026 000123", "CMP\u20132026\u2013000123") as the service writes it."""
    return _REFERENCE_GAPS.sub("-", typed.strip()[:40]).upper()


async def sign_in(
    services: Services, request: Request, reference: str, code: str, *, from_link: bool
) -> Response:
    """Check the reference and code (an access code, or a link's one-time code, used up here); open a page
    session and go to the complaint. A wrong pair shows the form again (typed in) or the not-found page (a
    link)."""
    errors: dict[str, str] = {}
    if not reference:
        errors["reference"] = "Enter your complaint reference"
    if not code:
        errors["token"] = "Enter your access code"
    if errors:
        return render("track.html", 422, form={"reference": reference}, errors=errors)
    try:
        _, secret = await access.open_session(
            services, reference=reference, code=code, client_ip=client_ip(request)
        )
    except ProblemError as error:
        if from_link or error.problem.status in (401, 429):
            return refused_page(error)
        errors = {"reference": NOT_FOUND_MESSAGE}
        return render("track.html", 404, form={"reference": reference}, errors=errors)
    response = see_other(f"/complaint/{reference}")
    set_session_cookie(response, services, secret)
    return response


@router.get("/complaint/track", response_class=HTMLResponse)
async def track(
    services: ServicesDep,
    reference: Annotated[str | None, Query(max_length=40)] = None,
    code: Annotated[str | None, Query(max_length=MAX_TOKEN_LENGTH)] = None,
    token: Annotated[str | None, Query(max_length=MAX_TOKEN_LENGTH)] = None,
    cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> Response:
    """The form, or (from the e-mailed link) a page with one Continue button that posts the link's code: a
    GET spends nothing, so a mail scanner that fetches the link leaves it working. A browser already signed
    in to this complaint goes straight to it. (`token`: links e-mailed before one-time codes.)"""
    if reference is None and code is None and token is None:
        return render("track.html")
    reference = (reference or "").strip()
    if not LINK_REFERENCE.fullmatch(reference):
        # Not a reference the service writes: never printed on the council's page (a link anyone can write
        # would put its own words there); the sign-in form instead.
        return render("track.html")
    if cookie and await signed_in_to(services, reference, cookie):
        return see_other(f"/complaint/{reference}")
    return render("link.html", form={"reference": reference, "code": (code or token or "").strip()})


@router.post("/complaint/track", response_class=HTMLResponse)
async def track_form(
    request: Request,
    services: ServicesDep,
    reference: Text = "",
    token: Text = "",
    code: Text = "",
) -> Response:
    """The track form (`token`: the access code typed in) or the link page's Continue (`code`). A reference
    typed in small letters is the same reference."""
    typed = token.strip()[:MAX_TOKEN_LENGTH]
    linked = code.strip()[:MAX_TOKEN_LENGTH]
    return await sign_in(services, request, typed_reference(reference), typed or linked, from_link=not typed)


@router.post("/complaint/sign-out")
async def sign_out(
    services: ServicesDep, cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None
) -> Response:
    await end_session(services, cookie)
    response = see_other("/")
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@router.get("/complaint/new-link", response_class=HTMLResponse)
async def new_link() -> HTMLResponse:
    return render("new_link.html")


@router.post("/complaint/new-link", response_class=HTMLResponse)
async def send_new_link(
    request: Request, services: ServicesDep, reference: Text = "", email: Text = ""
) -> Response:
    form = {"reference": reference, "email": email}
    errors: dict[str, str] = {}
    if not reference.strip():
        errors["reference"] = "Enter your complaint reference"
    try:
        body = AccessLinkRequest(email=email.strip())
    except ValidationError:
        errors["email"] = EMAIL_FORMAT
    if errors:
        return render("new_link.html", 422, form=form, errors=errors)
    try:
        await access.request_access_link(
            services,
            reference=typed_reference(reference),
            email=str(body.email),
            client_ip=client_ip(request),
        )
    except ProblemError as error:
        if error.problem.status != 429:
            raise
        return too_many_page(error, "new_link.html", form=form, errors={"email": error.problem.detail})
    return render("new_link.html", sent=ACCESS_LINK_ANSWER, form={"reference": reference})
