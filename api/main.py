"""The staff API: an app factory whose lifespan opens and closes the pool and the Temporal client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors
from api.deps import Services
from api.routes import actions, auth, complaints, dev_mail, health, policies, public, resident_pages
from core.settings import Settings, get_settings
from core.temporal import connect
from domain.policy_files import load_policies
from store.db import create_pool, migrate

log = logging.getLogger(__name__)
# The resident pages' stylesheet (the pages themselves are api/routes/resident_pages.py).
RESIDENT_STATIC = Path(__file__).resolve().parent / "resident" / "static"


async def open_services(settings: Settings) -> Services:
    if not settings.database_url or not settings.temporal_address:
        raise RuntimeError("DATABASE_URL and TEMPORAL_ADDRESS must be set (make run sets them for you)")
    # An invalid policy file stops the service here, naming the file, field and reason.
    loaded = load_policies(settings.policies_dir)
    pool = await create_pool(settings.database_url)
    try:
        await migrate(pool)
        temporal = await connect(settings.temporal_address, settings.temporal_namespace)
    except BaseException:
        await pool.close()
        raise
    return Services(settings=settings, pool=pool, temporal=temporal, policies=loaded)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Tests pass ready `services`; otherwise the lifespan opens them from `settings`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
    for module in (health, auth, policies, complaints, actions, public, dev_mail, resident_pages):
        app.include_router(module.router)
    app.mount("/resident-static", StaticFiles(directory=RESIDENT_STATIC), name="resident-static")
    return app


def app() -> FastAPI:
    """uvicorn factory entry point: `uvicorn --factory api.main:app`."""
    return create_app()
