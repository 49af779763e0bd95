"""What every page of the web layer shares: the Jinja environment (the pages' templates and the GOV.UK
Frontend macros), the HTML response, the static files (GOV.UK Frontend and MOJ Frontend, vendored) and the
filters that say dates and statuses the same way on every page."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
# GOV.UK Frontend stays where the resident pages vendored it (api/resident/static/govuk-frontend).
GOVUK = HERE.parent / "api" / "resident" / "static" / "govuk-frontend"
LONDON = ZoneInfo("Europe/London")

STATUS_TAGS = {
    "received": ("Received", "govuk-tag--blue"),
    "acknowledged": ("Acknowledged", "govuk-tag--light-blue"),
    "awaiting_information": ("Waiting for information", "govuk-tag--yellow"),
    "responded": ("Responded", "govuk-tag--green"),
    "escalation_requested": ("Stage 2 requested", "govuk-tag--purple"),
    "escalation_refused": ("Stage 2 refused", "govuk-tag--grey"),
    "declined": ("Declined", "govuk-tag--grey"),
    "closed": ("Closed", "govuk-tag--grey"),
    "withdrawn": ("Withdrawn", "govuk-tag--grey"),
}


def long_date(value: date | datetime | None) -> str:
    """'Friday 20 November 2026' (a moment in London's day), or an empty string."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return f"{value:%A} {value.day} {value:%B %Y}"


def short_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return f"{value.day} {value:%b %Y}"


def moment(value: datetime | None) -> str:
    """'20 Nov 2026, 10:15' in London time."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%b %Y, %H:%M}"


def words(value: str | None) -> str:
    """A code as words: 'awaiting_information' -> 'Awaiting information'."""
    text = (value or "").replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def govuk_environment(*folders: Path) -> Environment:
    """A Jinja environment over these template folders (the first that has a name wins) and the GOV.UK
    Frontend macros and page template (govuk-frontend-jinja): the staff console's and the resident pages'."""
    return Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(list(folders)),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(enabled_extensions=("html",), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def environment(*folders: Path) -> Environment:
    env = govuk_environment(*folders, TEMPLATES)
    env.filters |= {"long_date": long_date, "short_date": short_date, "moment": moment, "words": words}
    env.globals["STATUS_TAGS"] = STATUS_TAGS
    return env


ENV = environment()


def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page: no caching (it shows personal data), no referrer (its URL names a complaint)."""
    html = ENV.get_template(template).render(**context)
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"},
    )


class AssetFiles(StaticFiles):
    """/assets: GOV.UK Frontend's fonts and images and MOJ Frontend's icons, whose stylesheets both look
    for them there (their file names do not overlap)."""

    def __init__(self) -> None:
        super().__init__(directory=GOVUK / "assets")
        self.all_directories = [*self.all_directories, STATIC / "moj-frontend" / "assets"]
