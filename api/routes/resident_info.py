"""The resident side's information pages, linked from every page's footer: the accessibility statement and
the privacy notice (the form asks equality questions: residents are told what is kept, why, how long)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import ServicesDep
from api.resident.make.form import form_policy
from web.resident.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/accessibility", response_class=HTMLResponse)
async def accessibility(
    services: ServicesDep, policy_id: Annotated[str | None, Query(max_length=60)] = None
) -> HTMLResponse:
    return render("accessibility.html", council=form_policy(services, {"policy_id": policy_id}))


@router.get("/privacy", response_class=HTMLResponse)
async def privacy(
    services: ServicesDep, policy_id: Annotated[str | None, Query(max_length=60)] = None
) -> HTMLResponse:
    council = form_policy(services, {"policy_id": policy_id})
    return render(
        "privacy.html", council=council, councils=sorted(services.policies.values(), key=lambda p: p.name)
    )
