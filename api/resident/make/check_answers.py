"""The "Check your answers" page's rows: each answer in the words the resident chose, with the question page
its "Change" link goes back to (a link to the page, never to an answer: the answers stay on the server).
Only the questions asked are shown, and the "for someone else" part only when it is for someone else.
(From the check-answers work in progress `journeys2-check-answers-wip`, reworked for the question pages.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.resident.make.form import (
    ADJUSTMENT_LABELS,
    FORMAT_LABELS,
    TENURE_LABELS,
    form_policy,
    representative_choices,
)
from api.resident.make.questions import PAGE_OF, asked
from core.services import Services
from domain.policy import DEFAULT_SERVICE_AREAS

Row = tuple[str, str, str]  # the question page "Change" goes back to, the question, the answer


def _label(options: Sequence[tuple[str, str]], value: str) -> str:
    return next((label for code, label in options if code == value), value)


def sections(services: Services, form: dict[str, Any], *, council: str) -> list[tuple[str, list[Row]]]:
    def text(field: str) -> str:
        return str(form.get(field) or "").strip()

    pages = {question.slug for question in asked(services, form)}

    def row(field: str, question: str, answer: str) -> Row:
        return (PAGE_OF[field], question, answer)

    policy = form_policy(services, form)
    areas = policy.service_areas if policy else DEFAULT_SERVICE_AREAS
    for_someone = form.get("on_behalf") == "yes"
    about: list[Row] = []
    if "who-for" in pages:
        who = "Someone else: I am making it for them" if for_someone else "Me"
        about.append(row("on_behalf", "Who the complaint is for", who))
    if "council" in pages:
        about.append(row("policy_id", "Council", council))
    result: list[tuple[str, list[Row]]] = [("About the complaint", about)] if about else []
    if for_someone:
        you = [row("representative_name", "Your name", text("representative_name"))]
        for field, question in (
            ("representative_email", "Your e-mail address"),
            ("representative_phone", "Your phone number"),
        ):
            if text(field):
                you.append(row(field, question, text(field)))
        kinds = representative_choices(services, policy)
        you.append(
            row("representative_kind", "Which best describes you", _label(kinds, text("representative_kind")))
        )
        if text("representative_relationship"):
            you.append(
                row(
                    "representative_relationship",
                    "Your relationship to them",
                    text("representative_relationship"),
                )
            )
        you.append(
            row(
                "representative_consent",
                "Their consent",
                "I have their consent to make this complaint and act for them",
            )
        )
        result.append(("About you", you))
    person = [row("name", "Full name", text("name"))]
    for field, question in (
        ("email", "E-mail address"),
        ("phone", "Phone number"),
        ("address", "Postal address"),
    ):
        person.append(row(field, question, text(field) or "Not given"))
    result.append(("The person the complaint is for" if for_someone else "Your details", person))
    complaint = [
        row("service_area", "Service", _label([(a.code, a.label) for a in areas], text("service_area"))),
        row(
            "tenure",
            "How the home is held",
            _label(TENURE_LABELS, text("tenure")) if text("tenure") else "Not given",
        ),
        row("summary", "What went wrong", text("summary")),
        row("desired_outcome", "What you would like us to do", text("desired_outcome") or "Not given"),
    ]
    result.append(("The complaint", complaint))
    kinds_asked = [_label(ADJUSTMENT_LABELS, kind) for kind in form.get("adjustment_kinds") or []]
    support = [row("adjustment_kinds", "Support needed", "\n".join(kinds_asked) if kinds_asked else "None")]
    if text("preferred_language"):
        support.append(row("preferred_language", "Preferred language", text("preferred_language")))
    if text("adjustment_details"):
        support.append(row("adjustment_details", "More about the support", text("adjustment_details")))
    support.append(
        row("preferred_format", "Letters", _label(FORMAT_LABELS, text("preferred_format") or "standard"))
    )
    result.append(("Support", support))
    return result
