"""Prometheus metrics of the API (core/metrics.py): requests, latencies and the read model's figures."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from api.deps import ServicesDep
from core.metrics import READ_MODEL

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(services: ServicesDep) -> Response:
    """Prometheus text format. The read-model figures are re-read when older than METRICS_REFRESH_SECONDS."""
    try:
        await asyncio.wait_for(
            READ_MODEL.refresh(
                services.pool, services.policies, max_age=services.settings.metrics_refresh_seconds
            ),
            timeout=5,
        )
    except Exception as error:  # PostgreSQL down: serve the last figures (and the rest) rather than nothing
        log.warning("read-model metrics not refreshed: %s", type(error).__name__)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
