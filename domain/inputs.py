"""Guards on what people send: text that PostgreSQL and letters can hold, and dates a timer can wait for.

A NUL character cannot be stored in PostgreSQL text or jsonb, a lone surrogate cannot be encoded as UTF-8,
and a date like 9999-12-31 overflows the calendar arithmetic: any of them would leave an action that can
never be recorded. They are refused at the door (422): text in every part of a request (path, query, headers,
forms, JSON) by the edge guard (api/guards.py), dates and list sizes by the request models (`CleanInput`).
Nothing is stripped silently. The domain models the workflow carries are deliberately not made stricter:
histories already recorded must keep deserialising (tests/test_replay.py).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, model_validator

# C0 control characters other than tab, newline and carriage return, and lone UTF-16 surrogates (JSON can
# carry "\ud800"; no UTF-8 text, so no PostgreSQL column, can hold one).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
# No list in a request is longer than this (remedies, actions, staff named...): a bigger one is a mistake or
# an attack, and every item is carried in the workflow's history.
MAX_LIST_ITEMS = 100


def unstorable(value: str) -> str | None:
    """Why `value` cannot be stored as text (a control character or a lone surrogate), or None."""
    if _CONTROL.search(value):
        return "contains a control character that cannot be stored"
    return None


def latest_receipt(today: date) -> date:
    """The last receipt date accepted anywhere a receipt is planned: the end of next year."""
    return date(today.year + 1, 12, 31)


# A whole value that is a date or a date-time, as JSON carries them.
_DATE_LIKE = re.compile(r"^(\d{4})-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")


def _problem(value: str) -> str | None:
    if _CONTROL.search(value):
        return "contains a control character that cannot be stored"
    match = _DATE_LIKE.match(value)
    if match and not EARLIEST.year <= int(match.group(1)) <= LATEST.year:
        return f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}"
    return None


def _find_problem(value: Any, path: str = "") -> str | None:
    if isinstance(value, str):
        problem = _problem(value)
        return f"{path or 'value'}: {problem}" if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _find_problem(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list | tuple):
        if len(value) > MAX_LIST_ITEMS:
            return f"{path or 'value'}: at most {MAX_LIST_ITEMS} items"
        for index, item in enumerate(value):
            found = _find_problem(item, f"{path}[{index}]")
            if found:
                return found
    return None


class CleanInput(BaseModel):
    """A request model: no control characters in text (tab and newlines are fine), no list longer than
    MAX_LIST_ITEMS, and every date or date-time between 2000 and 2099."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        problem = _find_problem(data)
        if problem:
            raise ValueError(problem)
        return data
