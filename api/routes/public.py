"""Residents' self-service API under /api/public (work in progress: see issue 7)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/public", tags=["residents"])
