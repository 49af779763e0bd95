"""The one-question satisfaction survey, offered with the closure letter: "How satisfied are you with how we
handled your complaint?" (1 very dissatisfied to 5 very satisfied). Optional and anonymous: the answer is
stored apart from the complaint (store/satisfaction.py) and only counted, in the SPSO's satisfaction
indicator. Residents answer on their complaint's page or through the public API, once the complaint is
finalised, once per complaint (409 after)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from api.deps import ServicesDep
from api.errors import ProblemError
from api.resident.tokens import form_key, same
from api.routes.public import RESPONSES, Resident
from core.services import Services
from domain.models import FINAL_STATUSES, Status
from store import satisfaction
from store.complaints import ComplaintRecord
from web.resident.pages import render, see_other
from web.resident.session import SignedInPage

router = APIRouter(tags=["residents"])


class SatisfactionAnswer(BaseModel):
    rating: Annotated[int, Field(ge=1, le=5, description="1 very dissatisfied ... 5 very satisfied")]


def _open(record: ComplaintRecord) -> bool:
    """The survey is offered once the complaint is finalised (closed, withdrawn, declined or refused)."""
    return Status(record.status) in FINAL_STATUSES


async def _submit(services: Services, record: ComplaintRecord, rating: int) -> None:
    if not _open(record):
        raise ProblemError(
            409, "Not possible now", "the survey opens once the complaint is closed", "survey-not-open"
        )
    try:
        await satisfaction.submit(
            services.pool,
            reference=record.reference,
            policy_id=record.policy_id,
            on=datetime.now(UTC).date(),
            rating=rating,
        )
    except satisfaction.AlreadyAnswered as error:
        raise ProblemError(
            409, "Already given", "the survey for this complaint has been answered", "survey-answered"
        ) from error


@router.post("/api/public/complaints/{reference}/satisfaction", status_code=201, responses=RESPONSES)
async def answer_survey(body: SatisfactionAnswer, access: Resident, services: ServicesDep) -> dict[str, bool]:
    """Answer the one-question survey about how the complaint was handled (optional, anonymous)."""
    await _submit(services, access.record, body.rating)
    return {"recorded": True}


@router.get("/complaint/{reference}/satisfaction", response_class=HTMLResponse)
async def survey_page(services: ServicesDep, page: SignedInPage) -> Response:
    if isinstance(page, HTMLResponse):
        return page
    record = page.access.record
    return render(
        "satisfaction.html",
        reference=record.reference,
        form_key=form_key(page.session),
        given=await satisfaction.answered(services.pool, reference=record.reference),
        open=_open(record),
        errors={},
    )


@router.post("/complaint/{reference}/satisfaction", response_class=HTMLResponse)
async def send_survey(
    reference: str, request: Request, services: ServicesDep, page: SignedInPage
) -> Response:
    if isinstance(page, HTMLResponse):
        return page
    form = {key: str(value) for key, value in (await request.form()).items()}
    if not same(form.get("form_key", ""), form_key(page.session)):
        return see_other(f"/complaint/{reference}/satisfaction")
    rating = form.get("rating", "")
    if rating not in {"1", "2", "3", "4", "5"}:
        return render(
            "satisfaction.html",
            422,
            reference=page.access.record.reference,
            form_key=form_key(page.session),
            given=False,
            open=_open(page.access.record),
            errors={"rating": "Select how satisfied you are"},
        )
    try:
        await _submit(services, page.access.record, int(rating))
    except ProblemError as error:
        if error.problem.status != 409:
            raise
    return see_other(f"/complaint/{reference}/satisfaction")
