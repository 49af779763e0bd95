"""Development only: the messages the local SMTP catcher received (work in progress: see issue 7)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/dev", tags=["development"])
