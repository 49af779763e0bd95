"""The staff API: an app factory whose lifespan opens and closes the pool and the Temporal client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors, log_redaction
from api.client_address import trust_proxies
from api.development import include_development_routers
from api.docs_pages import install_docs
from api.guards import EdgeGuard
from api.observability import ObservabilityMiddleware
from api.page_security import PageSecurity
from api.resident.answer_timing import AnswerTiming
from api.routes import (
    actions,
    annual_report,
    attachments,
    auth,
    codec,
    complaints,
    conflicts,
    equality,
    events,
    health,
    metrics,
    personal_data,
    policies,
    public,
    reports,
    resident_info,
    resident_investigation,
    resident_make,
    resident_pages,
    resident_questions,
    satisfaction,
    staff_training,
    triage,
)
from core.logs import configure_logging
from core.services import Services, open_services
from core.settings import Settings, get_settings
from web import resident as resident_web
from web import staff as staff_console
from web.layout import AssetFiles
from web.resident.error_pages import ResidentErrorPages

log = logging.getLogger(__name__)
# The resident pages' stylesheet (the pages themselves are api/routes/resident_pages.py and web/resident/).
RESIDENT_STATIC = Path(__file__).resolve().parent / "resident" / "static"


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Tests pass ready `services`; otherwise the lifespan opens them from `settings`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log_redaction.install()  # again: the server may have configured logging after the factory ran
        # Temporal is connected lazily: the API starts, and answers 503 (readyz says why), while it is down.
        opened = services or await open_services(settings or get_settings(), for_api=True)
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
        docs_url=None,  # served from this service, not a CDN: api/docs_pages.py
        redoc_url=None,
    )
    install_docs(app)
    # Recent normal web intakes' durations: a held one's answer waits on them (api/resident/answer_timing.py).
    app.state.answer_timing = AnswerTiming()
    if services is not None:
        app.state.services = services
    errors.install(app)
    log_redaction.install()
    configured = services.settings if services is not None else settings or get_settings()
    trust_proxies(app, configured)
    app.add_middleware(EdgeGuard, upload_max_bytes=configured.attachment_max_bytes)
    # Inside PageSecurity, so that the pages it makes of errors get the pages' Content-Security-Policy.
    app.add_middleware(ResidentErrorPages)
    app.add_middleware(PageSecurity, public_base_url=configured.public_base_url)
    # Any route may be answered by the edge guard (413, 422) or an outage (503): the OpenAPI says so.
    edge: dict[int | str, dict[str, Any]] = {
        status: errors.PROBLEM_RESPONSES[status] for status in (413, 422, 503)
    }
    for module in (
        health,
        metrics,
        auth,
        policies,
        complaints,
        events,
        attachments,
        conflicts,
        equality,
        actions,
        personal_data,
        reports,
        annual_report,
        staff_training,
        public,
        satisfaction,
        resident_questions,  # before resident_pages: /complaint/make/... is no complaint's reference
        resident_make,
        resident_investigation,  # before web.resident: its POST /complaint/{reference}/investigation
        resident_pages,
        resident_info,
        resident_web,
        codec,
        triage,
    ):
        app.include_router(module.router, responses=edge)
    configured = services.settings if services is not None else settings or get_settings()
    include_development_routers(app, configured, edge)  # imported only outside production
    # The Temporal Web UI calls the codec endpoints from the browser: CORS for its origins, there only.
    app.add_middleware(codec.CodecCORS, origins=configured.codec_origins)
    # Request ids, the log context, request metrics and one log line a request (api/observability.py).
    app.add_middleware(ObservabilityMiddleware)
    app.mount("/resident-static", StaticFiles(directory=RESIDENT_STATIC), name="resident-static")
    # The staff console (web/staff/): its pages and static files.
    staff_console.mount(app, configured)
    # GOV.UK Frontend's CSS finds its fonts and images under /assets, MOJ Frontend's its icons.
    app.mount("/assets", AssetFiles(), name="assets")
    return app


def app() -> FastAPI:
    """uvicorn factory entry point: `uvicorn --factory api.main:app`."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
