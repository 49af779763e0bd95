"""Make a complaint one question a page (GOV.UK question pages), then "Check your answers", then send.

`/complaint/make` starts (or resumes) a complaint; each question is `/complaint/make/<question>` (GET shows
it, POST checks and keeps its answer, then goes on to the next question that applies); `/complaint/make/check`
lists every answer with a Change link (which comes back to the check page after the change) and sends the
complaint. The answers are kept on the server (store/complaint_drafts.py), keyed by the hash of a random
secret in an HttpOnly, SameSite cookie: no answer is ever in an address, so none reaches a log line or a
Referer. Each page's answer is checked by the same rules as the whole complaint (`checked`), limited to its
own fields; the complaint is checked again, whole, when it is sent.

No GET stores anything: starting only sets a cookie (`START_COOKIE`, the council chosen on the start page), so
a crawler or a bot following links fills no table. The draft (and its secret, drawn by the server) is made by
the resident's first accepted answer, and drafts made per client address are limited
(`RESIDENT_DRAFTS_PER_ADDRESS` per window: past it, a 429 page saying when to try again, and no draft).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Cookie, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.client_address import client_ip
from api.deps import RequestId, ServicesDep
from api.resident.access import limiter
from api.resident.make import questions
from api.resident.make.check_answers import sections
from api.resident.make.questions import Answers, Question
from api.resident.ratelimit import TooMany
from api.resident.tokens import MAX_TOKEN_LENGTH, hash_token
from api.routes.resident_make import checked, question_context, send
from api.routes.resident_pages import render, see_other
from core.services import Services
from store.complaint_drafts import SENT_LIFETIME, DraftRepository
from web.resident.pages import too_many_page

router = APIRouter(include_in_schema=False)

DRAFT_COOKIE = "complaint_draft"
# Set by starting, until the first answer makes the draft: the council chosen on the start page, or NO_COUNCIL
# (a cookie cannot be empty; no policy id is "-"). Without it and without a draft, a question page says the
# answers have been deleted (expired, or a link followed from elsewhere).
START_COOKIE = "complaint_start"
NO_COUNCIL = "-"
DRAFT_PATH = "/complaint/make"
START = "/complaint/make"
CHECK = "/complaint/make/check"


def _address(question: Question | None, *, change: bool = False) -> str:
    if question is None:
        return CHECK
    return f"{START}/{question.slug}" + ("?change=1" if change else "")


async def _draft(services: Services, cookie: str | None) -> Answers | None:
    if not cookie or len(cookie) > MAX_TOKEN_LENGTH:
        return None
    return await DraftRepository(services.pool).get(key_hash=hash_token(cookie))


def _begun(services: Services, council: str | None) -> Answers:
    """The answers of a complaint started but not answered yet (nothing stored): the council chosen on the
    start page, or the only one."""
    if council in services.policies:
        return {"policy_id": council}
    if len(services.policies) == 1:
        return {"policy_id": next(iter(services.policies))}
    return {}


async def _answers(services: Services, cookie: str | None, start: str | None) -> Answers | None:
    """The draft's answers; a complaint started and not answered yet: its first answers (not stored); None
    for no complaint (expired, or never started: a link followed from elsewhere)."""
    if cookie:  # a draft was made: it is there, or it expired
        return await _draft(services, cookie)
    return None if start is None else _begun(services, start)


def _cookie(response: Response, services: Services, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=DRAFT_PATH,
        httponly=True,
        samesite="lax",
        secure=services.settings.session_cookie_secure,
    )


def _expired() -> HTMLResponse:
    return render("make/expired.html", 410)


@router.get("/complaint/make", response_class=HTMLResponse)
async def begin(
    services: ServicesDep,
    policy_id: Annotated[str | None, Query(max_length=64)] = None,
    cookie: Annotated[str | None, Cookie(alias=DRAFT_COOKIE)] = None,
) -> Response:
    """Carry on with a complaint not yet sent, or start one (a cookie only: the first answer makes the
    draft); then the first question."""
    answers = await _draft(services, cookie)
    if answers is not None and not answers.get("sent") and cookie:
        if policy_id in services.policies and answers.get("policy_id") != policy_id:
            answers["policy_id"] = policy_id  # the council chosen on the start page, on the draft there is
            await DraftRepository(services.pool).save(key_hash=hash_token(cookie), answers=answers)
        return see_other(_address(questions.asked(services, answers)[0]))
    council = policy_id if policy_id in services.policies else NO_COUNCIL
    response = see_other(_address(questions.asked(services, _begun(services, council))[0]))
    _cookie(response, services, START_COOKIE, council)
    if cookie is not None:  # a draft sent or expired: this is a new complaint
        response.delete_cookie(DRAFT_COOKIE, path=DRAFT_PATH)
    return response


async def _made(request: Request, services: Services, answers: Answers) -> tuple[str, Answers]:
    """The draft of a complaint's first answer (its secret drawn here, never taken from the browser), counted
    against the client address's allowance (TooMany past it)."""
    await limiter(services).draft_made(client_ip=client_ip(request))
    secret = secrets.token_urlsafe(32)
    answers = answers | {"submission": secrets.token_urlsafe(16)}
    await DraftRepository(services.pool).save(key_hash=hash_token(secret), answers=answers)
    return secret, answers


def _page(
    services: Services,
    question: Question,
    answers: Answers,
    errors: dict[str, str],
    *,
    change: bool,
    status: int = 200,
) -> HTMLResponse:
    previous = questions.before(services, answers, question.slug)
    back = CHECK if change else (_address(previous) if previous else "/")
    return render(
        f"make/{question.slug}.html",
        status,
        form=answers,
        errors=errors,
        back=back,
        action=_address(question, change=change),
        **question_context(services, answers),
    )


@router.get("/complaint/make/check", response_class=HTMLResponse)
async def check(
    services: ServicesDep,
    cookie: Annotated[str | None, Cookie(alias=DRAFT_COOKIE)] = None,
    start: Annotated[str | None, Cookie(alias=START_COOKIE)] = None,
) -> Response:
    answers = await _answers(services, cookie, start)
    if answers is None or answers.get("sent"):
        return _expired()
    if not cookie:  # started, nothing answered yet: the first question
        return see_other(_address(questions.asked(services, answers)[0]))
    _, errors = checked(services, answers)
    missing = questions.first_with_problem(services, answers, errors)
    if missing is not None:
        return see_other(_address(missing))
    return _check_page(services, answers, errors)


def _check_page(services: Services, answers: Answers, errors: dict[str, str]) -> HTMLResponse:
    policy = services.policies.get(str(answers.get("policy_id")))
    council = policy.name if policy else ""
    return render(
        "make/check.html",
        422 if errors else 200,
        sections=sections(services, answers, council=council),
        errors=errors,
        back=_address(questions.asked(services, answers)[-1]),
    )


@router.post("/complaint/make/check", response_class=HTMLResponse)
async def send_complaint(
    request: Request,
    services: ServicesDep,
    request_id: RequestId,
    cookie: Annotated[str | None, Cookie(alias=DRAFT_COOKIE)] = None,
    start: Annotated[str | None, Cookie(alias=START_COOKIE)] = None,
) -> Response:
    """Send the complaint: the answers checked again, whole; sent once however often this is pressed."""
    answers = await _answers(services, cookie, start)
    if answers is None:
        return _expired()
    if not cookie:  # started, nothing answered yet: nothing to send, the first question
        return see_other(_address(questions.asked(services, answers)[0]))
    body, errors = checked(services, answers)
    if errors or body is None:
        missing = questions.first_with_problem(services, answers, errors)
        return see_other(_address(missing)) if missing else _check_page(services, answers, errors)
    # Kept a few minutes once sent: a double click replays the same complaint (`send` is idempotent by
    # the draft's submission id), then the draft expires and is purged.
    drafts = DraftRepository(services.pool)
    await drafts.save(key_hash=hash_token(cookie), answers=answers | {"sent": True}, lifetime=SENT_LIFETIME)

    def refused(errors: dict[str, str], status: int) -> HTMLResponse:
        page = _check_page(services, answers, errors)
        page.status_code = status
        return page

    try:
        response = await send(services, request, request_id, answers, body, refused)
    except Exception:
        # Not sent (an outage: a 503 page): the answers stay, to send again after Back. Sending them again
        # after all makes the complaint once (`send` is idempotent by the submission id and the answers).
        await drafts.save(key_hash=hash_token(cookie), answers=answers)
        raise
    if response.status_code >= 400:  # refused (too many complaints, a restriction): the answers stay
        await drafts.save(key_hash=hash_token(cookie), answers=answers)
    return response


@router.get("/complaint/make/{slug}", response_class=HTMLResponse)
async def question(
    slug: str,
    services: ServicesDep,
    change: Annotated[str | None, Query(max_length=1)] = None,
    cookie: Annotated[str | None, Cookie(alias=DRAFT_COOKIE)] = None,
    start: Annotated[str | None, Cookie(alias=START_COOKIE)] = None,
) -> Response:
    asked = questions.BY_SLUG.get(slug)
    answers = await _answers(services, cookie, start)
    if asked is None:
        return render("not_found.html", 404, heading="Page not found", message="There is no such page.")
    if answers is None or answers.get("sent"):
        return _expired()
    if not asked.applies(services, answers):
        if change:  # a Change link to a question the answers no longer ask: back to checking
            return see_other(CHECK)
        return see_other(_address(questions.after(services, answers, slug)))
    # Answered before (Back, a Change link, or sent back here by the check page): any problem its answer
    # has is shown with it, never a page that looks fine but will not let the complaint be sent.
    answered = all(field in answers for field in asked.fields)
    errors = checked(services, answers)[1] if answered else {}
    mine = {field: message for field, message in errors.items() if field in asked.fields}
    return _page(services, asked, answers, mine, change=bool(change))


@router.post("/complaint/make/{slug}", response_class=HTMLResponse)
async def answer(
    slug: str,
    request: Request,
    services: ServicesDep,
    change: Annotated[str | None, Query(max_length=1)] = None,
    cookie: Annotated[str | None, Cookie(alias=DRAFT_COOKIE)] = None,
    start: Annotated[str | None, Cookie(alias=START_COOKIE)] = None,
) -> Response:
    """Keep this page's answer if it has no problem, then the next question (after a Change: the next
    question the change made necessary, else back to the check page). The first answer accepted makes the
    draft (within the client address's allowance)."""
    asked = questions.BY_SLUG.get(slug)
    answers = await _answers(services, cookie, start)
    if asked is None:
        return render("not_found.html", 404, heading="Page not found", message="There is no such page.")
    if answers is None or answers.get("sent"):
        return _expired()
    before = questions.asked(services, answers)
    answers = answers | questions.page_answers(asked, await request.form())
    _, errors = checked(services, answers)
    mine = {field: message for field, message in errors.items() if field in asked.fields}
    if mine:
        return _page(services, asked, answers, mine, change=bool(change), status=422)
    made: str | None = None
    if cookie:
        await DraftRepository(services.pool).save(key_hash=hash_token(cookie), answers=answers)
    else:
        try:
            made, answers = await _made(request, services, answers)
        except TooMany as error:
            return too_many_page(error, "make/too_many.html")
    response = _next(services, answers, errors, slug, before=before, change=bool(change))
    if made is not None:
        _cookie(response, services, DRAFT_COOKIE, made)
        response.delete_cookie(START_COOKIE, path=DRAFT_PATH)
    return response


def _next(
    services: Services,
    answers: Answers,
    errors: dict[str, str],
    slug: str,
    *,
    before: list[Question],
    change: bool,
) -> Response:
    """Where an accepted answer goes."""
    # A change that changes which questions are asked ("Who is the complaint for?": the later pages then ask
    # about someone else, or about you) walks through the questions after it again, answers kept to correct:
    # never straight back to checking, with "your name" silently become the other person's.
    if change and questions.asked(services, answers) == before:
        return see_other(_address(questions.first_with_problem(services, answers, errors), change=True))
    return see_other(_address(questions.after(services, answers, slug)))
