"""Equality monitoring questions (optional, every answer may be left out or declined), after the ONS
census categories councils use in their monitoring forms."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

PREFER_NOT = "prefer_not_to_say"

AgeBand = Literal[
    "under_18", "18_24", "25_34", "35_44", "45_54", "55_64", "65_74", "75_plus", "prefer_not_to_say"
]
Sex = Literal["female", "male", "prefer_not_to_say"]
YesNo = Literal["yes", "no", "prefer_not_to_say"]
SexualOrientation = Literal[
    "straight_or_heterosexual", "gay_or_lesbian", "bisexual", "other", "prefer_not_to_say"
]
Ethnicity = Literal[
    "asian_or_asian_british",
    "black_black_british_caribbean_or_african",
    "mixed_or_multiple",
    "white",
    "other",
    "prefer_not_to_say",
]
Religion = Literal[
    "no_religion",
    "christian",
    "buddhist",
    "hindu",
    "jewish",
    "muslim",
    "sikh",
    "other",
    "prefer_not_to_say",
]


class EqualityAnswers(BaseModel):
    """One person's answers; every question is optional."""

    model_config = ConfigDict(extra="forbid")

    age_band: AgeBand | None = None
    sex: Sex | None = None
    gender_same_as_at_birth: YesNo | None = None
    sexual_orientation: SexualOrientation | None = None
    ethnicity: Ethnicity | None = None
    religion: Religion | None = None
    disability: YesNo | None = None
    carer: YesNo | None = None


QUESTIONS = list(EqualityAnswers.model_fields)
# Counts this small could point at a person: shown as "<5" (the usual small-number suppression).
SUPPRESS_BELOW = 5
# Below this many respondents in the whole period and council, no answer is shown at all.
MIN_RESPONDENTS = 10
# A shorter period could single out one day's answers (and the audit trail says who answered that day).
MIN_PERIOD_DAYS = 90
SUPPRESSED = "suppressed"


# --- issue 29 (3): differencing. Two reports whose periods differ by a day (or whose councils differ) would
# give away, by subtraction, the answers of whoever answered on that day (the audit trail says who). So a
# report counts whole calendar months that have ended (the period asked for is widened to whole months, the
# month under way is left out: read today and again tomorrow, the report would give away who answered in
# between), and it names no answer unless every council's every month in it has no respondent or at least
# MIN_RESPONDENTS: the difference of any two reports is then whole council-months of at least that many.


def whole_months(since: date, until: date, today: date) -> tuple[date, date]:
    """The first day of `since`'s month and the last day of `until`'s, but no later than the end of the last
    month that has ended by `today` (the end may then fall before the start: nothing is counted)."""
    first = since.replace(day=1)
    after = date(until.year + until.month // 12, until.month % 12 + 1, 1)
    return first, min(after, today.replace(day=1)) - timedelta(days=1)


# --- end issue 29 (3)


def suppressed(count: int) -> int | str:
    return f"<{SUPPRESS_BELOW}" if 0 < count < SUPPRESS_BELOW else count


def responses_shown(total: int) -> int | str:
    """How many answered, or `"<10"` below MIN_RESPONDENTS."""
    return total if total >= MIN_RESPONDENTS or total == 0 else f"<{MIN_RESPONDENTS}"


def question_shown(total: int, answers: dict[str, int]) -> dict[str, int]:
    """One question's counts as they may be shown: nothing below MIN_RESPONDENTS; an answer given by fewer
    than SUPPRESS_BELOW people is not named but counted into `suppressed`, and so are the next smallest
    answers until that bucket holds at least SUPPRESS_BELOW (else the total less the shown counts would give
    it away: complementary suppression)."""
    if total < MIN_RESPONDENTS:
        return {}
    shown = {answer: count for answer, count in answers.items() if count >= SUPPRESS_BELOW}
    hidden = sum(count for answer, count in answers.items() if answer not in shown)
    while 0 < hidden < SUPPRESS_BELOW and shown:
        smallest = min(shown, key=lambda answer: (shown[answer], answer))
        hidden += shown.pop(smallest)
    return shown | ({SUPPRESSED: hidden} if hidden else {})
