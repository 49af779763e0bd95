"""How every resident page is rendered: the service's templates with the GOV.UK Frontend macros, never cached,
never sent on as a Referer (the link page's address holds a code), and the pages that say why a complaint
cannot be shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, RedirectResponse

import api.resident
from api.errors import ProblemError
from api.resident.view import long_date
from api.resident.wording import window_words
from web.layout import govuk_environment

TEMPLATES = Path(api.resident.__file__).resolve().parent / "templates"

_env = govuk_environment(TEMPLATES)
_env.filters["long_date"] = long_date
_env.filters["window"] = window_words

# No page is cached, and no page's address (the link page's holds a code) is sent on as a Referer.
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

NOT_FOUND_MESSAGE = (
    "We could not find a complaint with that reference and access code. Check them and try again."
)


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("errors", {})
    context.setdefault("form", {})
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def not_found(heading: str = "Complaint not found", message: str = "") -> HTMLResponse:
    return render("not_found.html", 404, heading=heading, message=message or NOT_FOUND_MESSAGE)


def too_many_page(error: ProblemError, template: str = "not_found.html", **context: Any) -> HTMLResponse:
    message = error.problem.detail or ""
    response = render(
        template,
        429,
        heading="Too many attempts",
        message=message[:1].upper() + message[1:] + ".",
        **context,
    )
    response.headers.update(error.headers or {})
    return response


def refused_page(error: ProblemError) -> HTMLResponse:
    """A code check that failed, as a page: not found, expired, a link used already or too many attempts."""
    status = error.problem.status
    if status == 429:
        return too_many_page(error)
    if status == 401 and error.problem.type == "link-used":
        return not_found(
            "This link has been used already",
            "Each link we e-mail works once. If you are not signed in any more, ask for a new link or enter"
            " your reference and access code.",
        )
    if status == 401 and error.problem.type == "session-ended":
        return not_found(
            "You are signed out",
            "You signed out, or your session ended. Sign in again to see your complaint.",
        )
    if status == 401 and error.problem.type == "token-expired":
        return not_found(
            "Your access code has expired",
            "Your access code has expired or was withdrawn. Ask for a new link by e-mail, or contact the"
            " council's complaints team: they can send you a new access code by post.",
        )
    return not_found()
