"""A council's complaints policy, as data: the schema every policy file is validated against.

Pure domain code: no I/O here (loading files lives in `domain.policy_files`).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

PolicyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


class Nation(StrEnum):
    """Whose bank holidays count: the UK has three sets."""

    ENGLAND_AND_WALES = "england-and-wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern-ireland"


class Unit(StrEnum):
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    CALENDAR_MONTHS = "calendar_months"


class CountsFrom(StrEnum):
    """The event a window is counted from.

    `receipt` is the day the stage began: receipt of the complaint at Stage 1, receipt of the escalation
    request at Stage 2 (`escalation_request` says the same thing explicitly and is allowed at Stage 2 only).
    `response` is the day this stage's response was sent: escalation request windows count from it.
    """

    RECEIPT = "receipt"
    ACKNOWLEDGEMENT = "acknowledgement"
    ESCALATION_REQUEST = "escalation_request"
    RESPONSE = "response"
    # The day the complainant got the response: the day it was sent, plus the policy's `response_receipt`
    # allowance for how it was sent (a posted letter arrives days later).
    RESPONSE_RECEIVED = "response_received"


class Ombudsman(StrEnum):
    """Every UK public services ombudsman a council or landlord may signpost to."""

    LGSCO = "lgsco"  # England: Local Government and Social Care Ombudsman
    HOUSING_OMBUDSMAN = "housing-ombudsman"  # England: social landlords (Complaint Handling Code)
    SPSO = "spso"  # Scottish Public Services Ombudsman
    PSOW = "psow"  # Public Services Ombudsman for Wales
    NIPSO = "nipso"  # Northern Ireland Public Services Ombudsman


# How long after the council's final response each ombudsman normally accepts a complaint: the complaint's
# record stays open (for a referral and the ombudsman's decision) at least this long after closure.
REFERRAL_MONTHS: dict[Ombudsman, int] = {
    Ombudsman.LGSCO: 12,
    Ombudsman.HOUSING_OMBUDSMAN: 12,
    Ombudsman.SPSO: 12,
    Ombudsman.PSOW: 12,
    Ombudsman.NIPSO: 6,
}


class SentBy(StrEnum):
    """How a response was sent (it decides when the complainant got it)."""

    EMAIL = "email"
    PORTAL = "portal"
    POST = "post"
    IN_PERSON = "in_person"


class ConsentNeeded(StrEnum):
    NONE = "none"
    VERBAL = "verbal"
    WRITTEN = "written"


class _Strict(BaseModel):
    # Unknown keys are mistakes in a policy file (a typo must not silently fall back to a default).
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """A period: `amount` units counted from an event."""

    amount: int = Field(ge=0, le=400)
    unit: Unit = Unit.WORKING_DAYS
    counts_from: CountsFrom = Field(default=CountsFrom.RECEIPT, alias="from")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Extension(_Strict):
    """How far the response date may move.

    Up to `officer_limit_working_days` beyond the original response date the investigating officer decides;
    beyond it the complainant's recorded agreement is needed.
    """

    officer_limit_working_days: int = Field(ge=0, le=200)
    agreement_needed_beyond_limit: bool = True
    note: str = ""


class ProgressUpdateBy(StrEnum):
    """How a progress update is made: the officer is reminded to write one, or a templated letter goes."""

    REMINDER = "reminder"
    LETTER = "letter"


class ProgressUpdatesFrom(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    EXTENSION = "extension"


# Why complaints go wrong, for counting the year's learning themes: a policy may name its own list.
DEFAULT_ROOT_CAUSES = (
    "communication",
    "delay",
    "process-not-followed",
    "policy-or-procedure",
    "staff-conduct",
    "quality-of-work",
    "contractor",
    "records-or-systems",
    "accessibility-or-adjustments",
    "other",
)


class Stage(_Strict):
    number: Literal[1, 2]
    name: str
    investigated_by: str = Field(description="Who answers at this stage, as the policy names them.")
    acknowledge: Window
    respond: Window
    extension: Extension
    escalation_request: Window | None = Field(
        default=None,
        description="After this stage's response: how long the complainant has to ask for the next stage.",
    )
    late_escalation_at_discretion: bool = True
    # Where the response counts from acknowledgement, a late acknowledgement buys no time: the response
    # counts from the earlier of the acknowledgement and its due date, unless the policy says otherwise.
    late_acknowledgement_moves_response: bool = False
    # May the council require reasons for asking for this stage? Never under the Complaint Handling Code.
    escalation_reasons_required: bool = False
    # Keeping the complainant informed while this stage is investigated (Barking and Dagenham "agree how
    # often we will update you"; council-003 "keep you informed of progress"): every so many working days
    # without a response, the officer is reminded to send an update, or a progress letter goes out.
    update_every_working_days: int | None = Field(default=None, ge=1, le=60)
    progress_update_by: ProgressUpdateBy = ProgressUpdateBy.REMINDER
    # From when: the acknowledgement, or only once the response date has been extended ("if we need more
    # time ... we will keep you updated regularly").
    progress_updates_from: ProgressUpdatesFrom = ProgressUpdatesFrom.ACKNOWLEDGEMENT

    @model_validator(mode="after")
    def _windows_make_sense(self) -> Stage:
        if self.acknowledge.counts_from != CountsFrom.RECEIPT and not (
            self.number == 2 and self.acknowledge.counts_from == CountsFrom.ESCALATION_REQUEST
        ):
            raise ValueError("acknowledge.from must be 'receipt' (or 'escalation_request' at Stage 2)")
        if self.number == 1 and CountsFrom.ESCALATION_REQUEST in (
            self.acknowledge.counts_from,
            self.respond.counts_from,
        ):
            raise ValueError("Stage 1 windows cannot count from an escalation request")
        if self.acknowledge.unit != Unit.WORKING_DAYS or self.respond.unit != Unit.WORKING_DAYS:
            raise ValueError("acknowledge and respond windows must be in working_days")
        if CountsFrom.RESPONSE in (self.acknowledge.counts_from, self.respond.counts_from):
            raise ValueError("only escalation_request can count from the response")
        if self.escalation_request is not None:
            if self.escalation_request.amount == 0:
                raise ValueError("escalation_request.amount must be at least 1")
            if self.escalation_request.counts_from not in (CountsFrom.RESPONSE, CountsFrom.RESPONSE_RECEIVED):
                raise ValueError("escalation_request.from must be 'response' or 'response_received'")
        if CountsFrom.RESPONSE_RECEIVED in (self.acknowledge.counts_from, self.respond.counts_from):
            raise ValueError("only escalation_request can count from the response being received")
        return self


class Exclusion(_Strict):
    """A kind of matter that is not handled as a complaint, and where the person is sent instead."""

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    label: str
    signposting: str


class TimeLimit(_Strict):
    months: int = Field(ge=1, le=120)
    late_at_discretion: bool = True


class OmbudsmanInfo(_Strict):
    body: Ombudsman
    signposting: str
    early_referral_when_deadline_missed: bool = False
    # How long after closure a referral and the ombudsman's decision are tracked (default: the body's own
    # time limit, REFERRAL_MONTHS).
    referral_tracked_months: int | None = Field(default=None, ge=1, le=60)

    @property
    def tracked_months(self) -> int:
        return self.referral_tracked_months or REFERRAL_MONTHS[self.body]


class ResponseReceipt(_Strict):
    """When a response counts as received, in working days after the day it was sent, by how it was sent.
    Default: e-mail, portal and by hand the same day; post on the second working day after posting."""

    email: int = Field(default=0, ge=0, le=10)
    portal: int = Field(default=0, ge=0, le=10)
    in_person: int = Field(default=0, ge=0, le=10)
    post: int = Field(default=2, ge=0, le=10)

    def working_days(self, sent_by: SentBy) -> int:
        return int(getattr(self, sent_by.value))


REPRESENTATIVE_KINDS = ("family", "friend", "advocate", "carer", "solicitor", "councillor", "mp", "other")


class Complainants(_Strict):
    anonymous_allowed: bool
    anonymous_note: str = ""
    representatives_allowed: bool = True
    # The least consent on file for a representative to act: written consent refuses a verbal one.
    representative_consent: ConsentNeeded = ConsentNeeded.WRITTEN
    # Who may represent a complainant (kinds of representative); a council may exclude some, such as
    # councillors and MPs who have their own enquiry route.
    representative_kinds: tuple[str, ...] = REPRESENTATIVE_KINDS

    def consent_accepted(self, kind: str) -> bool:
        """Is consent of this kind (written, verbal, declared) enough under the policy?"""
        if self.representative_consent is ConsentNeeded.NONE:
            return True
        if self.representative_consent is ConsentNeeded.VERBAL:
            # A representative's declaration on the public form is, like verbal consent, not a document.
            return kind in ("verbal", "declared", "written")
        return kind == "written"


# ----------------------------------------------------------------------------- residents' contact routes
# What residents are told about reaching the council and the ombudsman: the letters' signature, the start
# page's "Before you start". Every field has a default, so a council file without `[resident_contact]` stays
# valid and its residents are still told a route ("reply to this message") and where to get urgent help.

OMBUDSMAN_NAMES: dict[Ombudsman, str] = {
    Ombudsman.LGSCO: "Local Government and Social Care Ombudsman",
    Ombudsman.HOUSING_OMBUDSMAN: "Housing Ombudsman Service",
    Ombudsman.SPSO: "Scottish Public Services Ombudsman",
    Ombudsman.PSOW: "Public Services Ombudsman for Wales",
    Ombudsman.NIPSO: "Northern Ireland Public Services Ombudsman",
}
OMBUDSMAN_WEBSITES: dict[Ombudsman, str] = {
    Ombudsman.LGSCO: "www.lgo.org.uk",
    Ombudsman.HOUSING_OMBUDSMAN: "www.housing-ombudsman.org.uk",
    Ombudsman.SPSO: "www.spso.org.uk",
    Ombudsman.PSOW: "www.ombudsman.wales",
    Ombudsman.NIPSO: "www.nipso.org.uk",
}


class ResidentContact(_Strict):
    """How residents reach the complaints team, named in every letter and on the start page."""

    team: str = Field(default="Complaints team", min_length=1, max_length=120)
    phone: str = Field(default="", max_length=60)
    email: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=400, description="Where to post a complaint.")
    in_person: str = Field(default="", max_length=400, description="Where and when to come in person.")
    opening_hours: str = Field(default="", max_length=200)
    relay: str = Field(
        default=(
            "If you are deaf, hard of hearing or have a speech difficulty, you can contact us through"
            " Relay UK (dial 18001 before our phone number), and we can arrange a British Sign Language"
            " (BSL) interpreter."
        ),
        max_length=600,
    )
    urgent: str = Field(
        default=(
            "If someone is in danger, call 999. If you need an urgent repair or help that cannot wait,"
            " phone us now: a complaint is not the quickest way to get urgent help."
        ),
        max_length=600,
    )
    # When an agreed payment is made (a letter saying "£50" must also say how and by when).
    payment_within_working_days: int = Field(default=20, ge=1, le=60)
    # The ombudsman's web address, when the council wants another page than the body's home page.
    ombudsman_website: str = Field(default="", max_length=200)


# ----------------------------------------------------------------------------- end of residents' contact


# How long a finalised complaint's personal data is kept when the policy does not say: six years, the period
# local authorities' records retention schedules commonly give complaint files (the Complaint Handling Code
# sets no period). The retention purge (workflows/retention.py) destroys it after that.
DEFAULT_RETENTION_YEARS = 6


class Policy(_Strict):
    """One council's complaints procedure."""

    id: PolicyId
    name: str
    source: str = Field(default="", description="Where the rules come from (document, seed).")
    nation: Nation
    timezone: str = "Europe/London"
    closure_days: tuple[date, ...] = ()
    time_limit: TimeLimit
    ombudsman: OmbudsmanInfo
    complainants: Complainants
    clock_stops_for_information: bool = False
    reminder_offsets_working_days: tuple[int, ...] = Field(default=(2,))
    exclusions: tuple[Exclusion, ...] = ()
    response_receipt: ResponseReceipt = ResponseReceipt()
    stages: tuple[Stage, ...]
    homes: int | None = Field(
        default=None,
        ge=1,
        le=10_000_000,
        description="Homes owned (or households served) for complaints per 1,000 homes (RSH measure CH01).",
    )
    root_causes: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")], ...] = Field(
        default=DEFAULT_ROOT_CAUSES,
        min_length=1,
        description="The root causes a response's learning may name (codes), counted as learning themes.",
    )
    retention_years: int = Field(
        default=DEFAULT_RETENTION_YEARS,
        ge=1,
        le=100,
        description="Whole years a complaint's personal data is kept after the complaint is finalised.",
    )
    # Optional, with defaults: every existing council file stays valid (the block above).
    resident_contact: ResidentContact = ResidentContact()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("reminder_offsets_working_days")
    @classmethod
    def _positive_offsets(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(offset < 1 or offset > 30 for offset in value):
            raise ValueError("reminder offsets must be between 1 and 30 working days")
        return tuple(sorted(set(value), reverse=True))

    # Field validators (not a model validator) so that a problem is reported against `stages` or `exclusions`
    # rather than against the whole file.
    @field_validator("stages")
    @classmethod
    def _stages_in_order(cls, stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
        numbers = [stage.number for stage in stages]
        if numbers not in ([1], [1, 2]):
            raise ValueError(f"stages must be [1] or [1, 2], got {numbers}")
        if len(stages) == 2 and stages[0].escalation_request is None:
            raise ValueError("stage 1 must define escalation_request when there is a Stage 2")
        if stages[-1].escalation_request is not None:
            raise ValueError("the last stage cannot have an escalation_request window")
        return stages

    @field_validator("exclusions")
    @classmethod
    def _unique_exclusion_codes(cls, exclusions: tuple[Exclusion, ...]) -> tuple[Exclusion, ...]:
        codes = [exclusion.code for exclusion in exclusions]
        if len(codes) != len(set(codes)):
            raise ValueError("exclusion codes must be unique")
        return exclusions

    @model_validator(mode="after")
    def _code_forbids_required_reasons(self) -> Policy:
        if self.ombudsman.body is Ombudsman.HOUSING_OMBUDSMAN and any(
            stage.escalation_reasons_required for stage in self.stages
        ):
            raise ValueError(
                "stages: escalation_reasons_required is not allowed under the Complaint Handling Code (6.12:"
                " residents must not be required to explain their reasons for requesting a stage 2)"
            )
        return self

    def stage(self, number: int) -> Stage:
        for stage in self.stages:
            if stage.number == number:
                return stage
        raise KeyError(f"policy {self.id} has no stage {number}")

    @property
    def last_stage(self) -> int:
        return self.stages[-1].number

    def exclusion(self, code: str) -> Exclusion | None:
        return next((exclusion for exclusion in self.exclusions if exclusion.code == code), None)
