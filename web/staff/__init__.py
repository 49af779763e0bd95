"""The staff console under /staff/: one module per journey (sign_in, queues, case, actions, ...), sharing
web/layout.py and the templates under web/templates/. Pages work without JavaScript."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from core.settings import Settings
from web.layout import STATIC, page
from web.staff import (
    access_code,
    actions,
    bulk,
    case,
    councils,
    dashboard,
    intake,
    oidc,
    queues,
    reports,
    sign_in,
    triage,
)
from web.staff.session import FormRefused, SignInNeeded


def mount(app: FastAPI, settings: Settings) -> None:
    """The console's routes, its static files and the two answers every page may give."""
    app.include_router(sign_in.router)
    if sign_in.dev_sign_in_enabled(settings):
        # Imported here, only where it is allowed: production never loads the demo users' form.
        from web.staff import dev_sign_in

        app.include_router(dev_sign_in.router)
    for module in (
        oidc,
        queues,
        intake,
        case,
        actions,
        access_code,
        bulk,
        dashboard,
        triage,
        reports,
        councils,
    ):
        app.include_router(module.router)
    app.mount("/staff-static", StaticFiles(directory=STATIC), name="staff-static")

    async def sign_in_needed(request: Request, error: Exception) -> Response:
        return RedirectResponse("/staff/", status_code=303)

    async def form_refused(request: Request, error: Exception) -> Response:
        return page(
            "staff/refused.html",
            403,
            heading="This form has expired",
            message="The page you sent it from was too old or not from this console, so nothing was done."
            " Open the page again and repeat what you did.",
            back="/staff/",
        )

    app.add_exception_handler(SignInNeeded, sign_in_needed)
    app.add_exception_handler(FormRefused, form_refused)
