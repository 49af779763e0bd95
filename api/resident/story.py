"""What the complaint page tells a resident beyond its status (issue 30): each letter's full text as it was
sent, the outcome in words, and the question of an information request still open.

The letters are rendered again from their outbox rows with the case's own name in the greeting, exactly as
`notifications.delivery` renders them; a letter that cannot be rendered any more (an access link once its
secret has been dropped) is listed without its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from api.resident.bodies import ResidentComplaintView
from api.resident.view import by_post, letter_title, shown_to_resident
from domain.letters import from_case_record
from domain.policy import Policy
from notifications.render import RenderError, render
from store.complaints import ComplaintRecord, NotificationRecord

# The outcome in the words of the letters (notifications/templates/_response_body.txt.j2).
OUTCOME_WORDS = {
    "upheld": "We agree that we got things wrong.",
    "partially_upheld": "We agree that we got some things wrong, but not everything you complained about.",
    "not_upheld": "We have not found that we got things wrong.",
}
OUTCOME_LABELS = {"upheld": "Upheld", "partially_upheld": "Partly upheld", "not_upheld": "Not upheld"}
# Letters whose text is never shown again: the access link carries a secret while it is waiting to go out.
NOT_SHOWN = frozenset({"access_link"})


@dataclass(frozen=True)
class LetterText:
    title: str
    created_on: date
    sent: bool
    text: str  # empty when it cannot be shown
    by_post: bool = False  # left for the council to post


@dataclass(frozen=True)
class Story:
    letters: list[LetterText]
    outcome_label: str | None
    outcome_words: str | None
    open_question: str | None  # what an information request still waiting for an answer asks


def story_of(
    view: ResidentComplaintView,
    record: ComplaintRecord,
    notifications: list[NotificationRecord],
    policy: Policy | None,
) -> Story:
    tz = ZoneInfo(policy.timezone if policy else "Europe/London")
    from_case = from_case_record(
        anonymous=record.anonymous, complainant=record.complainant, representative=record.representative
    )
    shown = [notice for notice in notifications if shown_to_resident(notice)]
    letters = [
        LetterText(
            title=letter_title(notice, policy),
            created_on=notice.created_at.astimezone(tz).date(),
            sent=notice.status == "sent" or by_post(notice),
            text=_text(notice, policy, from_case),
            by_post=by_post(notice),
        )
        for notice in shown
    ]
    question = None
    if view.status.value == "awaiting_information":
        asked = [notice for notice in shown if notice.template == "information_request"]
        question = str(asked[-1].context.get("request") or "") or None if asked else None
    outcome = view.outcome or ""
    return Story(
        letters=letters,
        outcome_label=OUTCOME_LABELS.get(outcome, outcome.replace("_", " ").capitalize()) or None,
        outcome_words=OUTCOME_WORDS.get(outcome),
        open_question=question,
    )


def _text(notice: NotificationRecord, policy: Policy | None, from_case: dict[str, Any]) -> str:
    if policy is None or notice.template in NOT_SHOWN:
        return ""
    context = dict(notice.context) | from_case
    try:
        return render(notice.template, context, policy).text
    except RenderError:
        return ""
