"""Letters and e-mails from the notification outbox: Jinja templates, overridable per council.

A notification (`domain.models.Notification`) names a template and carries a context. `render` turns it into
a subject, a plain-text body and an HTML body:

- `notifications/templates/<template>.txt.j2` is the message (the plain text is what matters) and
  `<template>.subject.j2` its subject line. `<template>.html.j2` is optional: without it the HTML is the text,
  escaped, in simple paragraphs (`_layout.html.j2`).
- A council's own wording wins: `<overrides_dir>/<policy_id>/<template>.txt.j2` (or `.html.j2`,
  `.subject.j2`, or a shared piece such as `_complainant.txt.j2`) is used instead of the default.
- A missing context key is an error (`StrictUndefined`), never a blank in a letter to a resident; HTML is
  autoescaped.

Context values arrive JSON-ish (the outbox stores JSON): dates as `date` objects or ISO strings, enums as
their string values; the filters accept both.

Filters: `date` ("Friday 11 December 2026"), `outcome` / `words` ("partially_upheld" -> "partially upheld"),
`pounds` (pence -> "£25" or "£12.50"), `paragraphs` (text -> escaped HTML paragraphs), `heading` (a section
title: a plain line in the text, an `<h2>` in the HTML). Variables besides the context: `council` (the
`Policy`), `stage_name(number)` (the policy's name for a stage) and `ombudsman_name`, `ombudsman_website`,
`ombudsman_months` (who residents can go to, where, and within how long of the final response).

Environments are cached per council: override files are found when a template is first used, and edits to a
file already in use are picked up; a new override file for a template already rendered needs a restart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache, partial
from itertools import groupby
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    Undefined,
    select_autoescape,
)
from markupsafe import Markup, escape

from domain.policy import OMBUDSMAN_NAMES, OMBUDSMAN_WEBSITES, Policy

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# Marks a section title in the rendered text: stripped from the plain text, an <h2> in the HTML. A private-use
# character (str.strip keeps it, unlike the ASCII separators) that no template writes and `_unmarked` takes
# out of the context values, so no resident's text can become a heading.
_HEADING = "\ue000"

_TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class RenderError(Exception):
    """A notification could not be rendered: the message names the template, the council and the cause."""


class UnknownTemplate(RenderError, LookupError):
    """No template of that name, neither a default nor the council's own."""


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


def template_names(folder: Path = TEMPLATES_DIR) -> frozenset[str]:
    """The templates in `folder` (by default the shipped ones); `_*` files are shared pieces, not messages."""
    return frozenset(
        path.name.removesuffix(".txt.j2") for path in folder.glob("*.txt.j2") if not path.name.startswith("_")
    )


def render(
    template: str,
    context: Mapping[str, Any],
    policy: Policy,
    overrides_dir: Path | None = None,
) -> RenderedMessage:
    """Render one notification for `policy`'s council, preferring its files under `overrides_dir`."""
    if not _TEMPLATE_NAME.fullmatch(template):
        raise UnknownTemplate(f"invalid notification template name {template!r}")
    env = _environment(overrides_dir, policy.id, policy.timezone)
    variables = {
        **_unmarked(context),
        "council": policy,
        "stage_name": partial(_stage_name, policy),
        "ombudsman_name": OMBUDSMAN_NAMES[policy.ombudsman.body],
        "ombudsman_website": policy.resident_contact.ombudsman_website
        or OMBUDSMAN_WEBSITES[policy.ombudsman.body],
        "ombudsman_months": policy.ombudsman.tracked_months,
    }
    where = f"notification template {template!r} for {policy.id}"
    try:
        try:
            body = env.get_template(f"{template}.txt.j2")
        except TemplateNotFound as missing:
            if missing.name != f"{template}.txt.j2":
                raise
            known = ", ".join(sorted(template_names()))
            raise UnknownTemplate(f"unknown {where}; known templates: {known}") from None
        marked = _tidy(body.render(variables))
        text = marked.replace(_HEADING, "")
        subject = " ".join(env.get_template(f"{template}.subject.j2").render(variables).split())
        try:
            html_template = env.get_template(f"{template}.html.j2")
        except TemplateNotFound as missing:
            if missing.name != f"{template}.html.j2":
                raise
            html = env.get_template("_layout.html.j2").render(
                subject=subject, body=marked, large_print=bool(context.get("large_print"))
            )
        else:
            html = html_template.render(variables)
    except RenderError:
        raise
    except (TemplateError, ValueError, TypeError) as exc:
        raise RenderError(f"cannot render {where}: {type(exc).__name__}: {exc}") from exc
    return RenderedMessage(subject=subject, text=text, html=html.strip() + "\n")


@lru_cache(maxsize=64)
def _environment(overrides_dir: Path | None, policy_id: str, timezone: str) -> Environment:
    loaders: list[BaseLoader] = []
    if overrides_dir is not None:
        loaders.append(FileSystemLoader(overrides_dir / policy_id))
    loaders.append(FileSystemLoader(TEMPLATES_DIR))
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        date=partial(format_date, tz=ZoneInfo(timezone)),
        outcome=words,
        words=words,
        pounds=pounds,
        paragraphs=paragraphs,
        heading=heading,
    )
    return env


# ------------------------------------------------------------------------------------------- filters


def as_date(value: Any, tz: tzinfo | None = None) -> date:
    """A date from a `date`, a `datetime` (an aware one is taken in `tz`, the council's zone) or ISO text."""
    _defined(value)
    parsed: object = value
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not a date: {text!r}") from None
    if isinstance(parsed, datetime):
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(tz or ZoneInfo("Europe/London"))
        return parsed.date()
    if isinstance(parsed, date):
        return parsed
    raise ValueError(f"not a date: {value!r}")


def format_date(value: Any, tz: tzinfo | None = None) -> str:
    """The UK way: "Friday 11 December 2026"."""
    day = as_date(value, tz)
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def words(value: Any) -> str:
    """An enum value as words: "partially_upheld" -> "partially upheld"."""
    _defined(value)
    text = str(value.value if hasattr(value, "value") else value)
    return text.replace("_", " ").replace("-", " ").strip()


def pounds(value: Any) -> str:
    """An amount in pence, GOV.UK style: 2500 -> "£25", 1250 -> "£12.50", 123456 -> "£1,234.56"."""
    _defined(value)
    pence = int(value)
    whole, part = divmod(pence, 100)
    return f"£{whole:,}" if part == 0 else f"£{whole:,}.{part:02d}"


def heading(title: Any) -> str:
    """A section title: its own line in the plain text, a real heading (`<h2>`) in the HTML e-mail."""
    _defined(title)
    return f"{_HEADING}{title}"


def paragraphs(text: Any) -> Markup:
    """Plain text as HTML: blank-line separated blocks become paragraphs (line breaks kept), runs of "- "
    lines become lists, a line marked by `heading` an `<h2>`. Everything is escaped."""
    _defined(text)
    html: list[str] = []
    for block in re.split(r"\n\s*\n", str(text).strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        while lines and lines[0].startswith(_HEADING):
            html.append(f"<h2>{escape(lines.pop(0).removeprefix(_HEADING))}</h2>")
        for is_list, run in groupby(lines, key=lambda line: line.startswith("- ")):
            if is_list:
                html.append("<ul>" + "".join(f"<li>{escape(line[2:])}</li>" for line in run) + "</ul>")
            else:
                html.append("<p>" + "<br>\n".join(str(escape(line)) for line in run) + "</p>")
    return Markup("\n".join(html))


# ------------------------------------------------------------------------------------------- helpers


def _stage_name(policy: Policy, number: Any) -> str:
    """The policy's name for a stage ("Review", "Stage Two"...), or "Stage N" if it has none."""
    _defined(number)
    try:
        return policy.stage(int(number)).name
    except (KeyError, ValueError, TypeError):
        return f"Stage {number}"


def _unmarked(value: Any) -> Any:
    """The context without heading marks: only a template's own titles become headings."""
    if isinstance(value, str):
        return value.replace(_HEADING, "")
    if isinstance(value, Mapping):
        return {key: _unmarked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_unmarked(item) for item in value]
    return value


def _defined(value: Any) -> None:
    """Filters and helpers see an undefined variable as an object: fail as StrictUndefined would."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()


def _tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row (conditional blocks leave gaps)."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
