"""The optional equality monitoring questions, linked from the complaint's page (`GET/POST
/complaint/{reference}/equality`): one form, every answer optional, stored apart from the case
(api/equality.py). Moved out of api/routes/resident_pages.py to keep it small."""

from __future__ import annotations

import re
from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api import equality
from api.deps import ServicesDep
from api.errors import ProblemError
from api.resident.tokens import form_key, same
from api.routes.resident_pages import SignedInPage, field_errors, render, see_other
from domain.equality import EqualityAnswers
from store.equality import EqualityRepository

router = APIRouter(include_in_schema=False)


EQUALITY_LABELS = {
    "age_band": "Your age",
    "sex": "Your sex",
    "gender_same_as_at_birth": "Is the gender you identify with the same as your sex registered at birth?",
    "sexual_orientation": "Your sexual orientation",
    "ethnicity": "Your ethnic group",
    "religion": "Your religion or belief",
    "disability": "Do you consider yourself to have a disability?",
    "carer": "Do you look after or support someone because of their health, disability or age?",
}


OPTION_LABELS = {
    "under_18": "Under 18",
    "asian_or_asian_british": "Asian or Asian British",
    "black_black_british_caribbean_or_african": "Black, Black British, Caribbean or African",
    "mixed_or_multiple": "Mixed or multiple ethnic groups",
}


def _option_label(value: str) -> str:
    if value in OPTION_LABELS:
        return OPTION_LABELS[value]
    words = re.sub(r"(\d)_(\d)", r"\1 to \2", value.replace("_plus", " or over")).replace("_", " ")
    return words[:1].upper() + words[1:]


def equality_questions() -> list[tuple[str, str, list[tuple[str, str]]]]:
    questions = []
    for name, field in EqualityAnswers.model_fields.items():
        values = list(get_args(get_args(field.annotation)[0]))
        options = [("", "Not answered")] + [(value, _option_label(value)) for value in values]
        questions.append((name, EQUALITY_LABELS[name], options))
    return questions


@router.get("/complaint/{reference}/equality", response_class=HTMLResponse)
async def equality_page(services: ServicesDep, page: SignedInPage) -> Response:
    """The optional equality monitoring questions."""
    if isinstance(page, HTMLResponse):
        return page
    reference = page.access.record.reference
    given = await EqualityRepository(services.pool).answered(reference=reference)
    return render(
        "equality.html",
        reference=reference,
        questions=equality_questions(),
        form_key=form_key(page.session),
        given=given,
    )


@router.post("/complaint/{reference}/equality", response_class=HTMLResponse)
async def send_equality(
    reference: str, request: Request, services: ServicesDep, page: SignedInPage
) -> Response:
    if isinstance(page, HTMLResponse):
        return page
    access = page.access
    form = {key: str(value) for key, value in (await request.form()).items()}
    if not same(form.get("form_key", ""), form_key(page.session)):
        return see_other(f"/complaint/{reference}/equality")
    answers = {name: form[name] for name in EqualityAnswers.model_fields if form.get(name)}
    try:
        await equality.submit(
            services.pool, access.record, EqualityAnswers.model_validate(answers), "resident"
        )
    except ValidationError as error:
        errors = dict.fromkeys(field_errors(error), "Select one of the answers, or Not answered")
        return render(
            "equality.html",
            422,
            reference=access.record.reference,
            questions=equality_questions(),
            form_key=form_key(page.session),
            form=form,
            errors=errors,
        )
    except ProblemError as error:
        if error.problem.status != 409:
            raise
    return see_other(f"/complaint/{reference}/equality")
