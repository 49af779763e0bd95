"""Guards on what people send: text that PostgreSQL and letters can hold, and dates a timer can wait for.

A NUL character cannot be stored in PostgreSQL text or jsonb, and a date like 9999-12-31 overflows the
calendar arithmetic: either would leave an action that can never be recorded. They are refused at the door
(422) by the request models. The domain models the workflow carries are deliberately not made stricter:
histories already recorded must keep deserialising (tests/test_replay.py).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, model_validator

# C0 control characters other than tab, newline and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


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
        for index, item in enumerate(value):
            found = _find_problem(item, f"{path}[{index}]")
            if found:
                return found
    return None


class CleanInput(BaseModel):
    """A request model: no control characters in text (tab and newlines are fine), and every date or
    date-time between 2000 and 2099."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        problem = _find_problem(data)
        if problem:
            raise ValueError(problem)
        return data
