"""The resident web pages: server-rendered HTML forms that work without JavaScript (GOV.UK patterns).

Start page, make a complaint, track it, and from the complaint's page send information, answer an extension,
ask for a review or withdraw. Every form posts, then redirects (post/redirect/get); a form with a problem is
shown again with an error summary at the top. After the reference and access code are entered (or the
e-mailed link is followed) they are kept in an HttpOnly cookie for this complaint only, and checked again on
every request, so a revoked or expired code stops working at once. The rules are the public API's
(`api.resident.service`): the same token check, guess limit and workflow refusals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from api.deps import RequestId, ServicesDep
from api.errors import ProblemError
from api.resident import service
from api.resident.service import (
    ACCESS_LINK_ANSWER,
    EscalationBody,
    ExtensionAnswerBody,
    InformationBody,
    PublicComplaintCreate,
    ResidentAccess,
    WithdrawBody,
    long_date,
)
from api.resident.tokens import form_key, same
from api.routes.public import client_ip
from core.services import Services

router = APIRouter(include_in_schema=False)

TEMPLATES = Path(__file__).resolve().parent.parent / "resident" / "templates"
COOKIE = "resident_access"
COOKIE_PATH = "/complaint"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["long_date"] = long_date

SERVICE_AREAS = [
    ("housing-repairs", "Housing repairs"),
    ("housing", "Housing (other)"),
    ("waste", "Bins, recycling and street cleaning"),
    ("council-tax", "Council tax and benefits"),
    ("parking", "Parking and roads"),
    ("planning", "Planning and building control"),
    ("social-care", "Adult or children's social care"),
    ("general", "Something else"),
]
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
    "review": "Your request for a review has been accepted.",
    "extension": "Thank you. We have recorded your answer.",
    "withdrawn": "Your complaint has been withdrawn.",
}
FIELD_LABELS = {
    "policy_id": "Select the council",
    "name": "Enter your full name",
    "email": "Enter an e-mail address in the correct format, like name@example.com",
    "phone": "Enter a phone number of 40 characters or fewer",
    "service_area": "Select the service your complaint is about",
    "summary": "Tell us what went wrong",
    "desired_outcome": "The outcome you want must be 5,000 characters or fewer",
    "reasons": "Tell us why you are unhappy with our response",
    "outcome_wanted": "The outcome you want must be 5,000 characters or fewer",
    "reason": "The reason must be 5,000 characters or fewer",
    "up_to": "Enter the latest date you agree to, like 2027-01-29",
    "agreed": "Select yes if you agree that we can send our response later",
}

FIELD_OF = {"information": "summary", "review": "reasons", "extension": "agreed", "withdraw": "reason"}
NOT_FOUND_MESSAGE = (
    "We could not find a complaint with that reference and access code. Check them and try again."
)

Text = Annotated[str, Form()]


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("errors", {})
    context.setdefault("form", {})
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def field_errors(error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        errors.setdefault(field, FIELD_LABELS.get(field, str(item["msg"])))
    return errors


def not_found(heading: str = "Complaint not found", message: str = "") -> HTMLResponse:
    return render(
        "not_found.html",
        404,
        heading=heading,
        message=message or NOT_FOUND_MESSAGE,
    )


def refused_page(error: ProblemError) -> HTMLResponse:
    """A token check that failed, as a page: not found, expired or too many attempts."""
    status = error.problem.status
    if status == 429:
        response = render(
            "not_found.html",
            429,
            heading="Too many attempts",
            message="You have entered too many wrong access codes. Wait 15 minutes, then try again.",
        )
        response.headers.update(error.headers or {})
        return response
    if status == 401 and error.problem.type == "token-expired":
        return not_found("Your access code has expired", "Your access code has expired or was withdrawn.")
    return not_found()


def set_access_cookie(response: Response, request: Request, reference: str, token: str) -> None:
    response.set_cookie(
        COOKIE,
        f"{reference}:{token}",
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def from_cookie(value: str | None, reference: str) -> str | None:
    """The token the cookie holds for `reference`, if any (the cookie is for one complaint at a time)."""
    if not value or ":" not in value:
        return None
    cookie_reference, _, token = value.partition(":")
    return token if cookie_reference == reference else None


async def access_for(
    services: Services, request: Request, reference: str, cookie: str | None
) -> ResidentAccess | HTMLResponse:
    token = from_cookie(cookie, reference)
    if token is None:
        return not_found()
    try:
        return await service.authenticate(
            services, reference=reference, token=token, client_ip=client_ip(request)
        )
    except ProblemError as error:
        return refused_page(error)


# ----------------------------------------------------------------------------------------------- start


@router.get("/", response_class=HTMLResponse)
async def start() -> HTMLResponse:
    return render("start.html")


# ---------------------------------------------------------------------------------- make a complaint


def new_form(services: Services, form: dict[str, Any], errors: dict[str, str], status: int) -> HTMLResponse:
    councils = sorted(((policy.id, policy.name) for policy in services.policies.values()), key=lambda c: c[1])
    return render(
        "new.html",
        status,
        councils=[("", "Select a council"), *councils],
        service_areas=SERVICE_AREAS,
        form=form,
        errors=errors,
    )


@router.get("/complaint/new", response_class=HTMLResponse)
async def new_complaint(services: ServicesDep) -> HTMLResponse:
    return new_form(services, {"service_area": "general"}, {}, 200)


@router.post("/complaint/new", response_class=HTMLResponse)
async def make_complaint(request: Request, services: ServicesDep, request_id: RequestId) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    fields: dict[str, str | None] = {key: form.get(key, "") for key in PublicComplaintCreate.model_fields}
    fields["phone"] = fields["phone"] or None
    errors: dict[str, str] = {}
    try:
        body = PublicComplaintCreate.model_validate(fields)
    except ValidationError as error:
        errors = field_errors(error)
    else:
        if body.policy_id not in services.policies:
            errors["policy_id"] = FIELD_LABELS["policy_id"]
    if errors:
        return new_form(services, form, errors, 422)
    created = await service.create(services, body, request_id)
    response = see_other(f"/complaint/{created.reference}/created")
    set_access_cookie(response, request, created.reference, created.access_token)
    return response


@router.get("/complaint/{reference}/created", response_class=HTMLResponse)
async def created(
    reference: str,
    request: Request,
    services: ServicesDep,
    cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> Response:
    access = await access_for(services, request, reference, cookie)
    if isinstance(access, HTMLResponse):
        return access
    return render("created.html", reference=reference, token=from_cookie(cookie, reference))


# ------------------------------------------------------------------------------------------- tracking


async def sign_in(
    services: Services, request: Request, reference: str, token: str, *, from_link: bool
) -> Response:
    """Check the reference and code; keep them in the cookie and go to the complaint. A wrong pair shows
    the form again (typed in) or the not-found page (a link)."""
    errors: dict[str, str] = {}
    if not reference:
        errors["reference"] = "Enter your complaint reference"
    if not token:
        errors["token"] = "Enter your access code"
    if errors:
        return render("track.html", 422, form={"reference": reference}, errors=errors)
    try:
        await service.authenticate(services, reference=reference, token=token, client_ip=client_ip(request))
    except ProblemError as error:
        if from_link or error.problem.status == 429 or error.problem.type == "token-expired":
            return refused_page(error)
        errors = {"reference": NOT_FOUND_MESSAGE}
        return render("track.html", 404, form={"reference": reference}, errors=errors)
    response = see_other(f"/complaint/{reference}")
    set_access_cookie(response, request, reference, token)
    return response


@router.get("/complaint/track", response_class=HTMLResponse)
async def track(
    request: Request,
    services: ServicesDep,
    reference: Annotated[str | None, Query(max_length=40)] = None,
    token: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The form, or (from the e-mailed link) straight to the complaint: the token leaves the address bar."""
    if reference is None and token is None:
        return render("track.html")
    return await sign_in(services, request, (reference or "").strip(), (token or "").strip(), from_link=True)


@router.post("/complaint/track", response_class=HTMLResponse)
async def track_form(
    request: Request, services: ServicesDep, reference: Text = "", token: Text = ""
) -> Response:
    return await sign_in(services, request, reference.strip()[:40], token.strip()[:200], from_link=False)


@router.post("/complaint/sign-out")
async def sign_out() -> Response:
    response = see_other("/")
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@router.get("/complaint/new-link", response_class=HTMLResponse)
async def new_link() -> HTMLResponse:
    return render("new_link.html")


@router.post("/complaint/new-link", response_class=HTMLResponse)
async def send_new_link(services: ServicesDep, reference: Text = "", email: Text = "") -> Response:
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
    await service.request_access_link(services, reference=reference.strip()[:40], email=str(body.email))
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
        "reason": view.possible.withdraw,
    }
    errors = {(field if shown.get(field) else "status-text"): text for field, text in (errors or {}).items()}
    policy = services.policies.get(access.record.policy_id)
    try:
        next_stage_name = policy.stage(view.stage + 1).name if policy else f"Stage {view.stage + 1}"
    except (KeyError, ValueError):
        next_stage_name = f"Stage {view.stage + 1}"
    return render(
        "status.html",
        status_code,
        c=view,
        status_label=STATUS_LABELS.get(view.status.value, view.status.value),
        next_stage_name=next_stage_name,
        done=done,
        form=form or {},
        errors=errors,
        form_key=form_key(token),
    )


@router.get("/complaint/{reference}", response_class=HTMLResponse)
async def complaint_page(
    reference: str,
    request: Request,
    services: ServicesDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
    cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> Response:
    access = await access_for(services, request, reference, cookie)
    if isinstance(access, HTMLResponse):
        return access
    token = from_cookie(cookie, reference) or ""
    return await status_page(services, access, token, done=DONE.get(done or ""))


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
    cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> Response:
    if action not in ACTIONS:
        return not_found("Page not found", "There is no such page.")
    access = await access_for(services, request, reference, cookie)
    if isinstance(access, HTMLResponse):
        return access
    token = from_cookie(cookie, reference) or ""
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
            await service.answer_extension(services, access, extension_answer(form), request_id)
        else:
            reason = WithdrawBody.model_validate({"reason": form.get("reason", "")})
            await service.withdraw(services, access, reason, request_id)
    except ValidationError as error:
        errors = field_errors(error)
        return await status_page(services, access, token, form=form, errors=errors, status_code=422)
    except ProblemError as error:
        if error.problem.status == 422:  # agreed, without the date agreed to
            errors = {"up_to": FIELD_LABELS["up_to"]}
        else:  # the workflow's refusal, with its reason
            field = FIELD_OF[action]
            errors = {field: f"{refusal}: {error.problem.detail or 'it is not possible now'}"}
        return await status_page(
            services, access, token, form=form, errors=errors, status_code=error.problem.status
        )
    return see_other(f"/complaint/{reference}?done={done}")


def extension_answer(form: dict[str, str]) -> ExtensionAnswerBody:
    agreed = form.get("agreed")
    fields: dict[str, Any] = {
        "agreed": {"yes": True, "no": False}.get(agreed or "", None),
        "up_to": form.get("up_to") or None,
    }
    return ExtensionAnswerBody.model_validate(fields)
