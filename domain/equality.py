"""Equality monitoring questions (optional, every answer may be left out or declined), after the ONS
census categories councils use in their monitoring forms."""

from __future__ import annotations

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


def suppressed(count: int) -> int | str:
    return f"<{SUPPRESS_BELOW}" if 0 < count < SUPPRESS_BELOW else count
