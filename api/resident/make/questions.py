"""The question pages of "Make a complaint" (GOV.UK "one thing per page"), in order, with the fields each
asks and when it applies: the "for someone else" pages only when the resident says the complaint is for
someone else, the council only where there is more than one. Branching is decided here, on the server, from
the answers given so far (a draft: store/complaint_drafts.py); the pages are api/routes/resident_questions.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.resident.make.form import representative_choices
from core.services import Services

Answers = dict[str, Any]


def _always(services: Services, answers: Answers) -> bool:
    return True


def _someone_else(services: Services, answers: Answers) -> bool:
    return answers.get("on_behalf") == "yes"


def _who_for_asked(services: Services, answers: Answers) -> bool:
    return bool(representative_choices(services, None))


def _several_councils(services: Services, answers: Answers) -> bool:
    return len(services.policies) > 1


@dataclass(frozen=True)
class Question:
    slug: str  # the page's address: /complaint/make/<slug> (never an answer in it)
    fields: tuple[str, ...]
    applies: Callable[[Services, Answers], bool] = _always
    # Fields a page sends as a list (checkboxes): an unticked page sends none, which is an answer too.
    lists: tuple[str, ...] = ()


QUESTIONS: tuple[Question, ...] = (
    Question("who-for", ("on_behalf",), _who_for_asked),
    Question("council", ("policy_id",), _several_councils),
    Question(
        "your-details", ("representative_name", "representative_email", "representative_phone"), _someone_else
    ),
    Question("about-you", ("representative_kind", "representative_relationship"), _someone_else),
    Question("consent", ("representative_consent",), _someone_else),
    Question("name", ("name",)),
    Question("contact", ("email", "phone", "address")),
    Question("service", ("service_area",)),
    Question("home", ("tenure",)),
    Question("what-happened", ("summary",)),
    Question("outcome", ("desired_outcome",)),
    Question(
        "support",
        ("adjustment_kinds", "preferred_language", "adjustment_details"),
        lists=("adjustment_kinds",),
    ),
    Question("letters", ("preferred_format", "address")),
)
BY_SLUG = {question.slug: question for question in QUESTIONS}
# Every field in the order the pages ask it (a problem summary lists them so).
FIELD_ORDER = list(dict.fromkeys(field for question in QUESTIONS for field in question.fields))
# The fields a question's "Change" link on the check-answers page goes back to (the first page asking it).
PAGE_OF = {field: q.slug for q in reversed(QUESTIONS) for field in q.fields}


def asked(services: Services, answers: Answers) -> list[Question]:
    """The questions that apply to these answers, in order."""
    return [question for question in QUESTIONS if question.applies(services, answers)]


def before(services: Services, answers: Answers, slug: str) -> Question | None:
    pages = asked(services, answers)
    slugs = [question.slug for question in pages]
    if slug not in slugs:
        return None
    place = slugs.index(slug)
    return pages[place - 1] if place > 0 else None


def after(services: Services, answers: Answers, slug: str) -> Question | None:
    """The next question that applies (None: the answers are ready to check)."""
    order = [question.slug for question in QUESTIONS]
    later = order[order.index(slug) + 1 :]
    return next((q for q in asked(services, answers) if q.slug in later), None)


def first_with_problem(services: Services, answers: Answers, errors: dict[str, str]) -> Question | None:
    """The first question that applies whose answer has a problem (what to ask before checking)."""
    return next((q for q in asked(services, answers) if any(field in errors for field in q.fields)), None)


def page_answers(question: Question, sent: Any) -> Answers:
    """This page's answers from the form sent (a field not sent is an empty answer)."""
    answers: Answers = {}
    for field in question.fields:
        if field in question.lists:
            answers[field] = [str(value) for value in sent.getlist(field)]
        else:
            answers[field] = str(sent.get(field) or "")
    return answers
