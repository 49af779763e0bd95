"""The staff API: an app factory whose lifespan opens and closes the pool and the Temporal client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors, log_redaction
from api.client_address import trust_proxies
from api.observability import ObservabilityMiddleware
from api.routes import actions, auth, complaints, dev_mail, health, metrics, policies, public, resident_pages
from core.logs import configure_logging
from core.services import Services, open_services
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
# The resident pages' stylesheet (the pages themselves are api/routes/resident_pages.py).
RESIDENT_STATIC = Path(__file__).resolve().parent / "resident" / "static"


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Tests pass ready `services`; otherwise the lifespan opens them from `settings`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log_redaction.install()  # again: the server may have configured logging after the factory ran
        opened = services or await open_services(settings or get_settings())
        app.state.services = opened
        try:
            yield
        finally:
            if services is None:
                await opened.pool.close()

    app = FastAPI(
        title="Complaint lifecycle service",
        version="0.1.0",
        description="Staff API for council complaints. Errors are RFC 9457 problem details.",
        lifespan=lifespan,
    )
    if services is not None:
        app.state.services = services
    errors.install(app)
    log_redaction.install()
    trust_proxies(app, services.settings if services is not None else settings or get_settings())
    # Request ids, the log context, request metrics and one log line a request (api/observability.py).
    app.add_middleware(ObservabilityMiddleware)
    for module in (health, metrics, auth, policies, complaints, actions, public, dev_mail, resident_pages):
        app.include_router(module.router)
    app.mount("/resident-static", StaticFiles(directory=RESIDENT_STATIC), name="resident-static")
    return app


def app() -> FastAPI:
    """uvicorn factory entry point: `uvicorn --factory api.main:app`."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
