"""A workflow's refusal in words for a resident.

The rules (domain/rules.py, domain/actions.py) explain a refusal to staff and API callers: "cannot request
escalation while the complaint is received (possible when it is responded)", "the window to ask for Stage 2
closed on 2026-12-18". A resident sees it on their complaint page when a form they had open no longer applies
(the page was shown before the complaint moved on). GOV.UK content asks for plain words and dates in full, so
the page says what it means for them, and where the complaint stands is shown beside it (the status text the
error summary links to). A reason not known here keeps its words, with its dates in full.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from api.resident.view import long_date

_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

_PASSED = (
    "the time to ask for this has passed. If you think we should still look at it, contact our"
    " complaints team"
)
_PLAIN: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"^the window to ask for .+ closed on (?P<on>\d{4}-\d{2}-\d{2})$"),
        lambda m: f"the time to ask for this ended on {long_date(date.fromisoformat(m['on']))}",
    ),
    (
        re.compile(
            r"^(only an officer can accept a late escalation request"
            r"|this policy does not accept late escalation requests)$"
        ),
        lambda _: _PASSED,
    ),
    (
        re.compile(r"^Stage \d+ is the last stage of this policy$"),
        lambda _: "there is no further stage with us. Our last letter tells you how to contact the ombudsman",
    ),
    (
        # A status or role refusal: the form no longer fits where the complaint is (shown beside it).
        re.compile(r"^(a resident )?cannot .+"),
        lambda _: "this is not possible now your complaint has moved on. See where it stands now",
    ),
]


def for_resident(reason: str) -> str:
    """The refusal's reason as a resident reads it (no status codes, dates in full)."""
    for pattern, words in _PLAIN:
        match = pattern.match(reason)
        if match is not None:
            return words(match)
    return _ISO_DATE.sub(lambda m: long_date(date.fromisoformat(m[0])), reason)
