"""The support a complainant asked for, with what the council will do about each need: repeated to them on
the confirmation page, on the complaint page and in the acknowledgement, so that a request made on the form
is seen to be heard (issue 30, point 10)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.models import AdjustmentKind, Adjustments, LetterFormat


@dataclass(frozen=True)
class SupportLine:
    asked: str  # what they asked for
    we_will: str  # what the council will do


_KINDS: dict[AdjustmentKind, tuple[str, str]] = {
    AdjustmentKind.LARGE_PRINT: ("Large print", "We will send our letters in large print."),
    AdjustmentKind.EASY_READ: ("Easy read", "We will send our letters in easy read."),
    AdjustmentKind.BSL: (
        "A British Sign Language (BSL) interpreter",
        "We will book a BSL interpreter for any meeting or call, and otherwise contact you in writing.",
    ),
    AdjustmentKind.OTHER_LANGUAGE: (
        "Another language",
        "We will arrange an interpreter, or a translation of our letters.",
    ),
    AdjustmentKind.ADVOCATE: (
        "Help from an advocate",
        "We will include your advocate, and can tell you about advocacy services if you do not have one.",
    ),
    AdjustmentKind.OTHER: (
        "Other support",
        "Someone from the complaints team will contact you to agree how we will give it.",
    ),
}
_FORMATS: dict[LetterFormat, tuple[str, str]] = {
    LetterFormat.LARGE_PRINT: ("Letters in large print", "We will send our letters in large print."),
    LetterFormat.EASY_READ: ("Letters in easy read", "We will send our letters in easy read."),
    LetterFormat.BRAILLE: ("Letters in braille", "We will post our letters to you in braille."),
    LetterFormat.AUDIO: ("Letters as audio", "We will send our letters to you as audio recordings."),
}


def support_lines(needs: Adjustments | None) -> list[SupportLine]:
    """Each need once (a format asked for twice, as a kind and as the letters' format, is one line)."""
    if needs is None:
        return []
    lines: list[SupportLine] = []
    seen: set[str] = set()

    def add(asked: str, we_will: str) -> None:
        if we_will not in seen:
            seen.add(we_will)
            lines.append(SupportLine(asked, we_will))

    if needs.preferred_format is not LetterFormat.STANDARD:
        add(*_FORMATS[needs.preferred_format])
    for kind in needs.kinds:
        asked, we_will = _KINDS[kind]
        if kind is AdjustmentKind.OTHER_LANGUAGE and needs.preferred_language:
            asked = f"{asked}: {needs.preferred_language}"
        add(asked, we_will)
    if needs.preferred_language and AdjustmentKind.OTHER_LANGUAGE not in needs.kinds:
        add(
            f"Language: {needs.preferred_language}",
            "We will arrange an interpreter, or a translation of our letters.",
        )
    if needs.details:
        add(
            f"You told us: {needs.details}",
            "We will do what you asked, or contact you to agree what we can do.",
        )
    return lines
