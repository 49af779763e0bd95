"""The resident web pages: server-rendered HTML forms that work without JavaScript (GOV.UK patterns).

Start page, make a complaint, track it, and from the complaint's page send information, answer an extension,
ask for a review or withdraw. Every form posts, then redirects (post/redirect/get); a form with a problem is
shown again with an error summary at the top. Signing in, with the reference and access code or with the
e-mailed link (its one-time code, used up when the resident presses Continue, so a mail scanner fetching
the link does not spend it), opens a short page session: its random secret, never a code, is kept in an
HttpOnly, SameSite cookie (Secure per `COOKIE_SECURE`), checked again on every request, so a revoked
session stops working at once. The rules are the public API's (`api.resident.service`): the same code
check, limits and workflow refusals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from api.client_address import client_ip
from api.deps import RequestId, ServicesDep
from api.errors import ProblemError
from api.resident import service
from api.resident.error_messages import cause_message, extension_answer_from
from api.resident.make.form import REPRESENTATIVE_FIELDS, form_policy
from api.resident.service import (
    ACCESS_LINK_ANSWER,
    EscalationBody,
    InformationBody,
    ResidentAccess,
    WithdrawBody,
    long_date,
)
from api.resident.story import story_of
from api.resident.tokens import MAX_TOKEN_LENGTH, form_key, hash_token, same
from api.resident.wording import window_words
from core.services import Services
from domain.policy import DEFAULT_SERVICE_AREAS
from domain.support import support_lines
from store.attachments import AttachmentRepository
from store.complaints import ComplaintRepository, adjustments_of
from store.resident_access import ResidentAccessRepository

router = APIRouter(include_in_schema=False)

TEMPLATES = Path(__file__).resolve().parent.parent / "resident" / "templates"
# The session's secret only (the cookie of the pages before sessions, `resident_access`, is simply ignored).
COOKIE = "resident_session"
COOKIE_PATH = "/complaint"

_env = Environment(
    # The service's templates, and the GOV.UK Frontend macros and page template (govuk-frontend-jinja).
    loader=ChoiceLoader(
        [
            FileSystemLoader(TEMPLATES),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    ),
    autoescape=select_autoescape(enabled_extensions=("html",), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["long_date"] = long_date
_env.filters["window"] = window_words

SERVICE_AREAS = [(area.code, area.label) for area in DEFAULT_SERVICE_AREAS]
STATUS_LABELS = {
    "received": "Received",
    "declined": "Not taken forward",
    "acknowledged": "Being looked into",
    "awaiting_information": "Waiting for information",
    "responded": "Response sent",
    "escalation_requested": "Review requested",
    "escalation_refused": "Review refused",
    "closed": "Closed",
    "withdrawn": "Withdrawn",
}
# The results a redirect can announce (a fixed list: nothing from the query string is shown as is).
DONE = {
    "information": "Thank you. We have added your information to your complaint.",
    # Received, not accepted: the council decides whether the review goes ahead (and says so in a letter).
    "review": "We have received your request for a review.",
    "extension": "Thank you. We have recorded your answer.",
    "withdrawn": "Your complaint has been withdrawn.",
    "evidence": "Thank you. We have added your file to your complaint.",
}
FIELD_LABELS = {
    "policy_id": "Select the council",
    "name": "Enter the full name",
    "email": "Enter an e-mail address in the correct format, like name@example.com",
    "phone": "Enter a phone number of 40 characters or fewer",
    "service_area": "Select the service your complaint is about",
    "tenure": "Select how you hold your home from the list",
    "summary": "Tell us what went wrong",
    "desired_outcome": "The outcome you want must be 5,000 characters or fewer",
    "reasons": "Your reasons must be 10,000 characters or fewer",
    "outcome_wanted": "The outcome you want must be 5,000 characters or fewer",
    "reason": "The reason must be 5,000 characters or fewer",
    "up_to": "Enter the latest date you agree to, like 29 1 2027",
    "agreed": "Select yes if you agree that we can send our response later",
}

ADJUSTMENT_FIELDS = {
    "kinds": "adjustment_kinds",
    "details": "adjustment_details",
    "preferred_language": "preferred_language",
    "preferred_format": "preferred_format",
}
FIELD_LABELS |= {
    "adjustment_kinds": "Select the support you need from the list",
    "adjustment_details": "Tell us about the support you need in 1,000 characters or fewer",
    "preferred_language": "The language must be 60 characters or fewer",
    "preferred_format": "Select a format from the list",
}

FIELD_LABELS |= {
    "representative_name": "Enter your name",
    "representative_email": "Enter your e-mail address or your phone number, so that we can contact you",
    "representative_phone": "Your phone number must be 40 characters or fewer",
    "representative_kind": "Select which best describes you",
    "representative_relationship": "Your relationship to them must be 200 characters or fewer",
    "representative_consent": "Confirm that you have their consent to act for them",
}
FIELD_OF = {"information": "summary", "review": "reasons", "extension": "agreed", "withdraw": "reason"}
NOT_FOUND_MESSAGE = (
    "We could not find a complaint with that reference and access code. Check them and try again."
)

Text = Annotated[str, Form()]


# No page is cached, and no page's address (the link page's holds a code) is sent on as a Referer.
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("errors", {})
    context.setdefault("form", {})
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def field_errors(error: ValidationError, *, by_cause: bool = False) -> dict[str, str]:
    """One message a field; with `by_cause` (the complaint form), worded for why it was refused."""
    errors: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        if field == "adjustments" and len(item["loc"]) > 1:
            field = ADJUSTMENT_FIELDS.get(str(item["loc"][1]), "adjustment_details")
        elif field == "representative":
            # No field named: the representative gave neither an e-mail address nor a phone number.
            part = str(item["loc"][1]) if len(item["loc"]) > 1 else "email"
            field = REPRESENTATIVE_FIELDS.get(part, "representative_name")
        worded = cause_message(field, item) if by_cause else None
        errors.setdefault(field, worded or FIELD_LABELS.get(field, str(item["msg"])))
    return errors


# A complaint page opened without signing in (a bookmark, a link from a letter): how to sign in, the same
# answer whether or not the reference exists.
SIGN_IN_HEADING = "Sign in to see your complaint"
SIGN_IN_MESSAGE = (
    "To see your complaint, sign in with your complaint reference and access code, or with the link we"
    " e-mailed you."
)


def not_found(heading: str = "Complaint not found", message: str = "") -> HTMLResponse:
    return render(
        "not_found.html",
        404,
        heading=heading,
        message=message or NOT_FOUND_MESSAGE,
    )


def too_many_page(error: ProblemError, template: str = "not_found.html", **context: Any) -> HTMLResponse:
    message = error.problem.detail or ""
    response = render(
        template,
        429,
        heading="Too many attempts",
        message=message[:1].upper() + message[1:] + ".",
        **context,
    )
    response.headers.update(error.headers or {})
    return response


def refused_page(error: ProblemError) -> HTMLResponse:
    """A code check that failed, as a page: not found, expired, a link used already or too many attempts."""
    status = error.problem.status
    if status == 429:
        return too_many_page(error)
    if status == 401 and error.problem.type == "link-used":
        return not_found(
            "This link has been used already",
            "Each link we e-mail works once. If you are not signed in any more, ask for a new link or enter"
            " your reference and access code.",
        )
    if status == 401 and error.problem.type == "session-ended":
        return not_found(
            "You are signed out",
            "You signed out, or your session ended. Sign in again to see your complaint.",
        )
    if status == 401 and error.problem.type == "token-expired":
        return not_found("Your access code has expired", "Your access code has expired or was withdrawn.")
    return not_found()


def set_session_cookie(response: Response, services: Services, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        # TLS usually ends at the council's proxy, so the scheme the app sees says nothing: a setting does.
        secure=services.settings.session_cookie_secure,
    )


@dataclass(frozen=True)
class SignedIn:
    """A resident signed in to the complaint of the page's path (a live page session)."""

    access: ResidentAccess
    session: str  # the cookie's secret: the pages' form key is derived from it


async def signed_in(
    reference: str,
    request: Request,
    services: ServicesDep,
    cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> SignedIn | HTMLResponse:
    """The complaint pages' dependency: the signed-in resident, or the page saying why not (not found,
    signed out, expired, too many attempts), which the page answers with instead."""
    if not cookie:
        return not_found(SIGN_IN_HEADING, SIGN_IN_MESSAGE)
    try:
        access = await service.session_access(
            services, reference=reference, session=cookie, client_ip=client_ip(request)
        )
    except ProblemError as error:
        return refused_page(error)
    return SignedIn(access=access, session=cookie)


SignedInPage = Annotated[SignedIn | HTMLResponse, Depends(signed_in)]


# ----------------------------------------------------------------------------------------------- start


@router.get("/", response_class=HTMLResponse)
async def start(
    services: ServicesDep, policy_id: Annotated[str | None, Query(max_length=60)] = None
) -> HTMLResponse:
    """The start page; "Before you start" names the council's routes (the one asked for, or the only one)."""
    councils = sorted(services.policies.values(), key=lambda policy: policy.name)
    council = form_policy(services, {"policy_id": policy_id})
    return render("start.html", council=council, councils=councils)


# ---------------------------------------------------------------------------------- make a complaint


# ------------------------------------------------------------------------------------------- tracking


async def sign_in(
    services: Services, request: Request, reference: str, code: str, *, from_link: bool
) -> Response:
    """Check the reference and code (an access code, or a link's one-time code, used up here); open a page
    session and go to the complaint. A wrong pair shows the form again (typed in) or the not-found page (a
    link). A right code always works, however many wrong ones were tried before."""
    errors: dict[str, str] = {}
    if not reference:
        errors["reference"] = "Enter your complaint reference"
    if not code:
        errors["token"] = "Enter your access code"
    if errors:
        return render("track.html", 422, form={"reference": reference}, errors=errors)
    try:
        _, secret = await service.open_session(
            services, reference=reference, code=code, client_ip=client_ip(request)
        )
    except ProblemError as error:
        if from_link or error.problem.status in (401, 429):
            return refused_page(error)
        errors = {"reference": NOT_FOUND_MESSAGE}
        return render("track.html", 404, form={"reference": reference}, errors=errors)
    response = see_other(f"/complaint/{reference}")
    set_session_cookie(response, services, secret)
    return response


@router.get("/complaint/track", response_class=HTMLResponse)
async def track(
    request: Request,
    services: ServicesDep,
    reference: Annotated[str | None, Query(max_length=40)] = None,
    code: Annotated[str | None, Query(max_length=MAX_TOKEN_LENGTH)] = None,
    token: Annotated[str | None, Query(max_length=MAX_TOKEN_LENGTH)] = None,
    cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> Response:
    """The form, or (from the e-mailed link) a page with one Continue button that posts the link's code: a
    GET spends nothing, so a mail scanner that fetches the link leaves it working. A browser already signed
    in to this complaint goes straight to it. (`token`: links e-mailed before one-time codes.)"""
    if reference is None and code is None and token is None:
        return render("track.html")
    reference = (reference or "").strip()
    if cookie and reference and await signed_in_to(services, reference, cookie):
        return see_other(f"/complaint/{reference}")
    return render("link.html", form={"reference": reference, "code": (code or token or "").strip()})


async def signed_in_to(services: Services, reference: str, cookie: str) -> bool:
    """Whether the cookie is a live session of this complaint (a look-up, not a guess: nothing counted)."""
    if len(cookie) > MAX_TOKEN_LENGTH:
        return False
    repository = ResidentAccessRepository(services.pool)
    found = await repository.find(token_hash=hash_token(cookie))
    return (
        found is not None
        and found.kind == "session"
        and found.reference == reference
        and found.usable_at(await repository.now())
    )


@router.post("/complaint/track", response_class=HTMLResponse)
async def track_form(
    request: Request,
    services: ServicesDep,
    reference: Text = "",
    token: Text = "",
    code: Text = "",
) -> Response:
    """The track form (`token`: the access code typed in) or the link page's Continue (`code`)."""
    typed = token.strip()[:MAX_TOKEN_LENGTH]
    linked = code.strip()[:MAX_TOKEN_LENGTH]
    return await sign_in(services, request, reference.strip()[:40], typed or linked, from_link=not typed)


@router.post("/complaint/sign-out")
async def sign_out(
    services: ServicesDep, cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None
) -> Response:
    """Ends the session on the server too (a shared computer keeps nothing that works)."""
    if cookie and len(cookie) <= MAX_TOKEN_LENGTH:
        repository = ResidentAccessRepository(services.pool)
        found = await repository.find(token_hash=hash_token(cookie))
        if found is not None and found.kind == "session":
            await repository.revoke(token_id=found.id)
    response = see_other("/")
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@router.get("/complaint/new-link", response_class=HTMLResponse)
async def new_link() -> HTMLResponse:
    return render("new_link.html")


@router.post("/complaint/new-link", response_class=HTMLResponse)
async def send_new_link(
    request: Request, services: ServicesDep, reference: Text = "", email: Text = ""
) -> Response:
    form = {"reference": reference, "email": email}
    errors: dict[str, str] = {}
    if not reference.strip():
        errors["reference"] = "Enter your complaint reference"
    try:
        body = service.AccessLinkRequest(email=email.strip())
    except ValidationError:
        errors["email"] = FIELD_LABELS["email"]
    if errors:
        return render("new_link.html", 422, form=form, errors=errors)
    try:
        await service.request_access_link(
            services, reference=reference.strip()[:40], email=str(body.email), client_ip=client_ip(request)
        )
    except ProblemError as error:
        if error.problem.status != 429:
            raise
        return too_many_page(error, "new_link.html", form=form, errors={"email": error.problem.detail})
    return render("new_link.html", sent=ACCESS_LINK_ANSWER, form={"reference": reference})


# ------------------------------------------------------------------------------------ the complaint page


async def status_page(
    services: Services,
    access: ResidentAccess,
    token: str,
    *,
    done: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = await service.view(services, access)
    # Each error links to its field; a refused action whose form is no longer shown links to the status.
    shown = {
        "summary": view.possible.send_information,
        "reasons": view.possible.ask_for_review,
        "outcome_wanted": view.possible.ask_for_review,
        "agreed": view.possible.answer_extension,
        "up_to": view.possible.answer_extension,
        "up_to-day": view.possible.answer_extension,  # the GOV.UK date input: errors link to its first box
        "reason": False,  # asked on the withdrawal's confirmation page (api/routes/resident_journeys.py)
        "file": view.possible.send_information,  # no evidence once the complaint is finished
    }
    errors = {(field if shown.get(field) else "status-text"): text for field, text in (errors or {}).items()}
    policy = services.policies.get(access.record.policy_id)
    repository = ComplaintRepository(services.pool)
    record = await repository.get(reference=view.reference)
    story = story_of(view, record, await repository.notifications(reference=view.reference), policy)
    try:
        next_stage_name = policy.stage(view.stage + 1).name if policy else f"Stage {view.stage + 1}"
    except (KeyError, ValueError):
        next_stage_name = f"Stage {view.stage + 1}"
    # issue 24: what the council needs to know to take a review request (council-004: reasons and action).
    review_needs: set[str] = set()
    if policy is not None and view.stage in [stage.number for stage in policy.stages]:
        review_needs = {need.value for need in policy.stage(view.stage).escalation_needs()}
    return render(
        "status.html",
        status_code,
        c=view,
        story=story,
        support=support_lines(adjustments_of(record.complainant)),
        status_label=STATUS_LABELS.get(view.status.value, view.status.value),
        next_stage_name=next_stage_name,
        review_needs=review_needs,
        done=done,
        form=form or {},
        errors=errors,
        form_key=form_key(token),
        evidence=[
            item
            for item in await AttachmentRepository(services.pool).list(reference=view.reference)
            if item.uploaded_by == "resident"
        ],
        evidence_hint=evidence_hint(services),
    )


def evidence_hint(services: Services) -> str:
    megabytes = services.settings.attachment_max_bytes / (1024 * 1024)
    kinds = "PDF, Word, JPEG, PNG or text"
    return f"For example, a photo, a letter or a document ({kinds}), up to {megabytes:g} MB."


@router.post("/complaint/{reference}/evidence", response_class=HTMLResponse)
async def send_evidence(
    reference: str,
    request: Request,
    services: ServicesDep,
    request_id: RequestId,
    page: SignedInPage,
) -> Response:
    """A file the resident sends as evidence (multipart form, field `file`)."""
    if isinstance(page, HTMLResponse):
        return page
    access, token = page.access, page.session
    form = await request.form()
    if not same(str(form.get("form_key", "")), form_key(token)):
        return see_other(f"/complaint/{reference}")
    if not (await service.view(services, access)).possible.send_information:
        return see_other(f"/complaint/{reference}")  # a finished complaint takes no more evidence
    upload = form.get("file")
    if not isinstance(upload, StarletteUpload) or not upload.filename:
        errors = {"file": "Select a file"}
        return await status_page(services, access, token, errors=errors, status_code=422)
    try:
        await service.send_evidence(services, access, upload, request_id)
    except ProblemError as error:
        message = {
            413: "The selected file must be smaller than "
            + evidence_hint(services).rsplit("up to ", 1)[-1][:-1],
            415: "The selected file must be a PDF, Word document, JPEG, PNG or text file",
            422: "The selected file is empty",
        }.get(error.problem.status, error.problem.detail or "The file could not be added")
        return await status_page(
            services, access, token, errors={"file": message}, status_code=error.problem.status
        )
    return see_other(f"/complaint/{reference}?done=evidence")


@router.get("/complaint/{reference}", response_class=HTMLResponse)
async def complaint_page(
    services: ServicesDep,
    page: SignedInPage,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    if isinstance(page, HTMLResponse):
        return page
    return await status_page(services, page.access, page.session, done=DONE.get(done or ""))


@router.get("/complaint/{reference}/withdraw", response_class=HTMLResponse)
async def confirm_withdrawal(services: ServicesDep, page: SignedInPage) -> Response:
    """Withdrawing takes a confirmation: one click on the complaint page never withdraws it."""
    if isinstance(page, HTMLResponse):
        return page
    return await withdraw_page(services, page.access, page.session)


async def withdraw_page(
    services: Services,
    access: ResidentAccess,
    token: str,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = await service.view(services, access)
    if not view.possible.withdraw:
        return see_other(f"/complaint/{view.reference}")
    return render(
        "withdraw.html", status_code, c=view, form=form or {}, errors=errors or {}, form_key=form_key(token)
    )


ACTIONS: dict[str, tuple[str, str]] = {
    # path: (result code for the redirect, what a refusal is about)
    "information": ("information", "We could not add your information"),
    "review": ("review", "We could not accept your request for a review"),
    "extension": ("extension", "We could not record your answer"),
    "withdraw": ("withdrawn", "We could not withdraw your complaint"),
}


@router.post("/complaint/{reference}/{action}", response_class=HTMLResponse)
async def complaint_action(
    reference: str,
    action: str,
    request: Request,
    services: ServicesDep,
    request_id: RequestId,
    page: SignedInPage,
) -> Response:
    if isinstance(page, HTMLResponse):
        return page
    if action not in ACTIONS:
        return not_found("Page not found", "There is no such page.")
    access, token = page.access, page.session
    form = {key: str(value) for key, value in (await request.form()).items()}
    if not same(form.get("form_key", ""), form_key(token)):
        # A form from somewhere else (or a page from before a new code): show the page again, fresh.
        return see_other(f"/complaint/{reference}")
    done, refusal = ACTIONS[action]
    try:
        if action == "information":
            body = InformationBody.model_validate({"summary": form.get("summary", "")})
            await service.send_information(services, access, body, request_id)
        elif action == "review":
            review = EscalationBody.model_validate(
                {"reasons": form.get("reasons", ""), "outcome_wanted": form.get("outcome_wanted", "")}
            )
            await service.ask_for_review(services, access, review, request_id)
        elif action == "extension":
            answer, wrong = extension_answer_from(form, access.record.respond_by)
            if wrong:
                errors = {"up_to-day": wrong}
                return await status_page(services, access, token, form=form, errors=errors, status_code=422)
            await service.answer_extension(services, access, answer, request_id)
        else:
            reason = WithdrawBody.model_validate({"reason": form.get("reason", "")})
            await service.withdraw(services, access, reason, request_id)
    except ValidationError as error:
        errors = field_errors(error)
        if action == "withdraw":
            return await withdraw_page(services, access, token, form=form, errors=errors, status_code=422)
        return await status_page(services, access, token, form=form, errors=errors, status_code=422)
    except ProblemError as error:
        named = FIELD_REFUSAL.match(error.problem.detail or "")
        if error.problem.status == 422:  # agreed, without the date agreed to
            errors = {"up_to-day": FIELD_LABELS["up_to"]}
        elif named and named["field"] in ANSWER_FIELDS:  # a refusal naming the answer it needs (council-004)
            errors = {named["field"]: named["message"][:1].upper() + named["message"][1:]}
            return await status_page(services, access, token, form=form, errors=errors, status_code=422)
        else:  # the workflow's refusal, with its reason
            field = FIELD_OF[action]
            errors = {field: f"{refusal}: {error.problem.detail or 'it is not possible now'}"}
        return await status_page(
            services, access, token, form=form, errors=errors, status_code=error.problem.status
        )
    return see_other(f"/complaint/{reference}?done={done}")


# A rule's refusal that names the field it is about ("outcome_wanted: this policy asks ..."): shown beside
# that field, as the answer the resident still has to give.
FIELD_REFUSAL = re.compile(r"^(?P<field>[a-z_]+): (?P<message>.+)$", re.DOTALL)
ANSWER_FIELDS = frozenset(EscalationBody.model_fields) | frozenset(InformationBody.model_fields)
