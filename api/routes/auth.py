"""Who a token belongs to. Tokens come from the council's identity provider (production) or from the dev
token endpoint (api/routes/dev_token.py, outside production only)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentStaff
from api.errors import PROBLEM_RESPONSES
from store.staff import StaffUser

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.get("/me", responses=PROBLEM_RESPONSES, response_model_exclude_none=True)
async def me(staff: CurrentStaff) -> StaffUser:
    """Who the token belongs to (with `service_areas` when limited to some)."""
    return staff
