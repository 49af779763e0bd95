"""The complaint form's error messages, one per cause per field, worded as the GOV.UK Design System's error
message guidance says (an empty field, too long, too short, the wrong format each get their own words).

`cause_message` words a validation error of the complaint's answers (`action_message`, of the complaint
page's forms); `form_checks` are the page's own checks the
JSON API does not make (a one-letter name, a phone number that is not one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from api.resident.service import ExtensionAnswerBody
from domain.inputs import LATEST
from notifications.render import format_date

PHONE_FORMAT = "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
NAME_MIN = 2
# "Who is the complaint for?" unanswered: asked first, and required where the council accepts representatives.
ON_BEHALF_MISSING = "Select who the complaint is for: you, or someone else you are making it for"

# field -> cause -> message. Causes: empty, too_long, too_short, invalid.
MESSAGES: dict[str, dict[str, str]] = {
    "name": {
        "empty": "Enter the full name",
        "too_long": "Full name must be 200 characters or fewer",
        "too_short": f"Full name must be {NAME_MIN} characters or more",
    },
    "email": {
        "empty": "Enter an e-mail address",
        "invalid": "Enter an e-mail address in the correct format, like name@example.com",
    },
    "phone": {"too_long": PHONE_FORMAT, "invalid": PHONE_FORMAT},
    "summary": {
        "empty": "Enter what went wrong",
        "too_long": "What went wrong must be 10,000 characters or fewer",
    },
    "address": {"too_long": "Your postal address must be 500 characters or fewer"},
    "desired_outcome": {"too_long": "What you would like us to do must be 5,000 characters or fewer"},
    "representative_name": {
        "empty": "Enter your name",
        "too_long": "Your name must be 200 characters or fewer",
        "too_short": f"Your name must be {NAME_MIN} characters or more",
    },
    "representative_email": {
        "invalid": "Enter your e-mail address in the correct format, like name@example.com",
    },
    "representative_phone": {"too_long": PHONE_FORMAT, "invalid": PHONE_FORMAT},
}

# The complaint page's own forms (web/resident/actions.py), worded by the same guidance: an empty box and a
# box too long never share a message.
ACTION_MESSAGES: dict[str, dict[str, str]] = {
    "summary": {
        "empty": "Enter the information you want to send us",
        "too_long": "The information you send must be 10,000 characters or fewer",
    },
    "reasons": {
        "empty": "Enter why you are unhappy with our response",
        "too_long": "Why you are unhappy with our response must be 10,000 characters or fewer",
    },
    "outcome_wanted": {
        "empty": "Enter what further action you want us to take",
        "too_long": "What you want us to do must be 5,000 characters or fewer",
    },
    "reason": {"too_long": "Why you are withdrawing your complaint must be 5,000 characters or fewer"},
}

_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()\-]+$")


def cause_of(item: Mapping[str, Any]) -> str:
    """Why pydantic refused a value, in the guidance's terms."""
    kind = str(item.get("type", ""))
    given = item.get("input")
    if kind == "missing" or given is None or (isinstance(given, str) and not given.strip()):
        return "empty"
    if kind == "string_too_long":
        return "too_long"
    if kind == "string_too_short":
        return "too_short"
    return "invalid"


def cause_message(field: str, item: Mapping[str, Any]) -> str | None:
    """The message for this field and cause, or None to fall back on the field's general message."""
    return MESSAGES.get(field, {}).get(cause_of(item))


def action_message(field: str, item: Mapping[str, Any]) -> str | None:
    """The message for a field of the complaint page's forms and its cause (None: the field's general one)."""
    return ACTION_MESSAGES.get(field, {}).get(cause_of(item))


def is_phone_number(value: str) -> bool:
    """A UK or international number: 10 to 15 digits, with spaces, brackets, hyphens and a leading +."""
    digits = sum(character.isdigit() for character in value)
    return bool(_PHONE_CHARACTERS.match(value.strip())) and 10 <= digits <= 15


def form_checks(form: Mapping[str, Any]) -> dict[str, str]:
    """What the page checks beyond the model: a name of one letter, a phone number that is not one, letters in
    braille or audio without an address to post them to."""
    errors: dict[str, str] = {}
    for field in ("name", "representative_name"):
        value = str(form.get(field) or "").strip()
        if value and len(value) < NAME_MIN:
            errors[field] = MESSAGES[field]["too_short"]
    for field in ("phone", "representative_phone"):
        value = str(form.get(field) or "").strip()
        if value and not is_phone_number(value):
            errors[field] = MESSAGES[field]["invalid"]
    posted = {"braille": "braille", "audio": "audio"}.get(str(form.get("preferred_format") or ""))
    if posted and not str(form.get("address") or "").strip():
        errors["address"] = f"Enter your postal address, so that we can post you letters in {posted}"
    if form.get("on_behalf") != "yes":  # the representative part is only read when it applies
        errors.pop("representative_name", None)
        errors.pop("representative_phone", None)
    return errors


def extension_answer_from(
    form: Mapping[str, str], respond_by: date | None
) -> tuple[ExtensionAnswerBody, str]:
    """The answer to "may we respond later?" from the GOV.UK date input (day, month, year boxes), or why not:
    the date must be a real one, and after the date already given (agreeing to an earlier one means nothing).
    """
    agreed = {"yes": True, "no": False}.get(form.get("agreed") or "")
    if agreed is None:  # neither chosen: the model refuses it ("Select yes if you agree...")
        return ExtensionAnswerBody.model_validate({"agreed": None}), ""
    if not agreed:
        return ExtensionAnswerBody(agreed=False), ""
    parts = [str(form.get(f"up_to-{part}") or "").strip() for part in ("day", "month", "year")]
    if not any(parts):
        return ExtensionAnswerBody(agreed=True), "Enter the latest date you agree to, like 29 1 2027"
    # ASCII digits only: str.isdigit() also takes "²", which int() cannot read.
    if not all(part.isascii() and part.isdigit() for part in parts):
        return ExtensionAnswerBody(agreed=True), "The latest date must include a day, month and year"
    day, month, year = (int(part) for part in parts)
    try:
        up_to = date(year, month, day)
    except (ValueError, OverflowError):  # a year of twenty digits overflows rather than being refused
        return ExtensionAnswerBody(agreed=True), "The latest date must be a real date"
    if up_to > LATEST:  # the request models take no date past 2099
        return ExtensionAnswerBody(agreed=True), f"The latest date must be {format_date(LATEST)} or before"
    if respond_by is not None and up_to <= respond_by:
        return ExtensionAnswerBody(agreed=True), f"The latest date must be after {format_date(respond_by)}"
    return ExtensionAnswerBody(agreed=True, up_to=up_to), ""
