"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.errors import RETRY_AFTER_SECONDS

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "Postgres or Temporal unreachable: `checks` names which part"}},
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """Postgres and Temporal are reachable (503 otherwise, naming the part that is down)."""
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(services.pool.fetchval("SELECT 1"), timeout=2)
        checks["postgres"] = "ok"
    except Exception as error:  # any failure means not ready
        checks["postgres"] = f"unreachable: {type(error).__name__}"
    try:
        await asyncio.wait_for(services.temporal.service_client.check_health(), timeout=2)
        checks["temporal"] = "ok"
    except Exception as error:
        checks["temporal"] = f"unreachable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
        headers=None if ready else {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
