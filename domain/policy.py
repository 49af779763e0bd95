"""A council's complaints policy, as data: the schema every policy file is validated against.

Pure domain code: no I/O here (loading files lives in `domain.policy_files`).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

from domain.tsm import Tenure

PolicyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


class Nation(StrEnum):
    """Whose bank holidays count: the UK has three sets."""

    ENGLAND_AND_WALES = "england-and-wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern-ireland"
    # Issue 28: Wales has England's bank holidays but its own model procedure (the PSOW's), whose values fill
    # what a Welsh council's file leaves unsaid (domain.policy_defaults). `england-and-wales` stays valid.
    WALES = "wales"


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
    # --- issue 28: the anchor of an escalation request limb ---
    # When the matter happened or came to the complainant's notice (the complaint's `matter_arose_on`): the
    # SPSO's "within six months of the event". Unrecorded, it is taken as the day the complaint was received
    # (the latest it can have been), so a missing date never closes a resident's window early.
    MATTER_AROSE = "matter_arose"


# --- issue 28: when a stage's counting starts ---
class CountingStarts(StrEnum):
    """Which day is day 0 of a stage's working-day windows.

    `receipt` (the default): the day of receipt is day 0, and a receipt on a non-working day counts from the
    next working day as day 0. `day_after_receipt`: "the 25 working days will begin the day after your
    complaint has been received": day 1 is the first working day after the day of receipt, so a complaint
    received on a Saturday has the Monday as day 1 (one working day less than under `receipt`). The two
    agree for a receipt on a working day.
    """

    RECEIPT = "receipt"
    DAY_AFTER_RECEIPT = "day_after_receipt"


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
    """A period: `amount` units counted from an event; or (issue 28) the later or the earlier of several such
    periods (`later_of` / `earlier_of`, the limbs), each from its own anchor."""

    amount: int = Field(ge=0, le=400)
    unit: Unit = Unit.WORKING_DAYS
    counts_from: CountsFrom = Field(default=CountsFrom.RECEIPT, alias="from")
    # --- issue 28: windows of several limbs ---
    # "within six months of the event ... or within two months of receiving your Stage 1 response (if this
    # is later)": the window ends on the later (or the earlier) of its limbs' last days. A combined window
    # has no amount, unit or from of its own (`amount` is then 0 and unused: read `limbs`).
    later_of: tuple[Window, ...] = ()
    earlier_of: tuple[Window, ...] = ()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _combined_has_no_period_of_its_own(cls, data: object) -> object:
        if not isinstance(data, dict) or not (data.get("later_of") or data.get("earlier_of")):
            return data
        if data.get("later_of") and data.get("earlier_of"):
            raise ValueError("give later_of or earlier_of, not both")
        own = sorted(key for key in ("amount", "unit", "from", "counts_from") if key in data)
        if own:
            raise ValueError(
                f"{', '.join(own)}: put amount, unit and from inside each limb of later_of / earlier_of"
            )
        return {**data, "amount": 0}

    @model_validator(mode="after")
    def _limbs_are_plain_periods(self) -> Window:
        combined = self.later_of or self.earlier_of
        if combined and len(combined) < 2:
            raise ValueError("later_of / earlier_of needs at least two limbs")
        if any(limb.is_combined for limb in combined):
            raise ValueError("a limb of later_of / earlier_of is a plain period (amount, unit, from)")
        return self

    @model_serializer(mode="wrap")
    def _as_written(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Shown (API, frozen copies) as a file says it: a plain period, or only its limbs."""
        data: dict[str, Any] = handler(self)
        kept = ("later_of", "earlier_of") if self.is_combined else ("amount", "unit", "from", "counts_from")
        return {key: value for key, value in data.items() if key in kept and value not in ((), [])}

    @property
    def is_combined(self) -> bool:
        return bool(self.later_of or self.earlier_of)

    @property
    def limbs(self) -> tuple[Window, ...]:
        """The periods the window is made of: itself, or its later_of / earlier_of limbs."""
        return self.later_of or self.earlier_of or (self,)

    @property
    def takes_later(self) -> bool:
        """Whether the window ends on the latest of its limbs' last days (else the earliest)."""
        return not self.earlier_of


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


# --- issue 24 (seed rules)
class EscalationNeed(StrEnum):
    """What a request for the next stage must include, where the policy may ask for it."""

    REASONS = "reasons"  # what was not handled well, or what they disagree with
    OUTCOME_WANTED = "outcome_wanted"  # what further action (outcome) they want


class Independence(StrEnum):
    """Whom Stage 2 must be independent of."""

    STAGE_1_HANDLERS = "stage_1_handlers"
    ANYONE_WHO_ACTED_ON_STAGE_1 = "anyone_who_acted_on_stage_1"


class ContactRestrictions(_Strict):
    """What a contact restriction may do under the policy, beyond closing online channels.

    council-004: "repeated complaints on the same or related matters that have already been addressed ...
    will not be considered again within a time period ... no further correspondence and/or communication will
    be entered into until the expiration of the agreed time period"."""

    # May a restriction on a matter already addressed (a response given) also stop correspondence on it?
    may_stop_correspondence: bool = False
    # The council's own words for it in the restriction letter (default: the service's wording).
    stop_correspondence_wording: str = Field(default="", max_length=2_000)


# --- end issue 24


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
    # May a late request for the next stage be accepted? Set on the stage the complainant asks to move on
    # from (Stage 1), where the escalation_request window is: it means nothing on the last stage.
    late_escalation_at_discretion: bool = True
    # Where the response counts from acknowledgement, a late acknowledgement buys no time: the response
    # counts from the earlier of the acknowledgement and its due date, unless the policy says otherwise.
    late_acknowledgement_moves_response: bool = False
    # May the council require reasons when the complainant asks to move on from this stage to the next? Set on
    # the stage escalated from (Stage 1), never on the last stage (refused there: it would mean nothing).
    # Never under the Complaint Handling Code.
    escalation_reasons_required: bool = False
    # --- issue 24 (seed rules) and issue 28, point 4: what a request for the next stage must include.
    # council-004: "we need to know: what part of the complaint they felt was not handled well at Stage One,
    # or; what they disagree with in the complaint response, and; what further action they would like to be
    # taken"; a Scottish council's "must include the reasons ... and also your desired outcome". `reasons`
    # is the same as `escalation_reasons_required = true`. Never under the Complaint Handling Code (6.12).
    escalation_requires: tuple[EscalationNeed, ...] = ()
    # Stage 2 only: who may not answer it. `stage_1_handlers` (default): nobody assigned Stage 1 and not its
    # responder. `anyone_who_acted_on_stage_1`: nobody who took any action on Stage 1's events (acknowledged,
    # asked for information, extended, noted...): Barking and Dagenham's "someone independent, who did not
    # work on your Stage 1 complaint".
    independent_of: Independence = Independence.STAGE_1_HANDLERS
    # --- end issue 24
    # Keeping the complainant informed while this stage is investigated (Barking and Dagenham "agree how
    # often we will update you"; council-003 "keep you informed of progress"): every so many working days
    # without a response, the officer is reminded to send an update, or a progress letter goes out.
    update_every_working_days: int | None = Field(default=None, ge=1, le=60)
    progress_update_by: ProgressUpdateBy = ProgressUpdateBy.REMINDER
    # From when: the acknowledgement, or only once the response date has been extended ("if we need more
    # time ... we will keep you updated regularly").
    progress_updates_from: ProgressUpdatesFrom = ProgressUpdatesFrom.ACKNOWLEDGEMENT
    # --- issue 28: when counting starts for this stage's acknowledge and respond windows ---
    counting_starts: CountingStarts = CountingStarts.RECEIPT

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
        # --- issue 24 (seed rules): an acknowledgement may be due in calendar days (council-003: "contact you
        # within five days", where the same page says "working days" for its other windows).
        if self.acknowledge.unit not in (Unit.WORKING_DAYS, Unit.CALENDAR_DAYS):
            raise ValueError("acknowledge windows must be in working_days or calendar_days")
        if self.respond.unit != Unit.WORKING_DAYS:
            raise ValueError("respond windows must be in working_days")
        # --- end issue 24
        if CountsFrom.RESPONSE in (self.acknowledge.counts_from, self.respond.counts_from):
            raise ValueError("only escalation_request can count from the response")
        if self.escalation_request is not None:
            self._check_escalation_window(self.escalation_request)
        if CountsFrom.RESPONSE_RECEIVED in (self.acknowledge.counts_from, self.respond.counts_from):
            raise ValueError("only escalation_request can count from the response being received")
        # --- issue 24 (seed rules): these fields mean something only where they are read.
        if self.number == 1 and self.independent_of is not Independence.STAGE_1_HANDLERS:
            raise ValueError("independent_of belongs on Stage 2 (who may answer it), not on Stage 1")
        if self.escalation_requires and self.escalation_request is None:
            raise ValueError(
                "escalation_requires belongs on the stage the next stage is asked from (the one with"
                " escalation_request), not on the last stage"
            )
        # --- end issue 24
        # --- issue 28: a field where it has no effect is refused, naming where it belongs ---
        if (
            self.late_acknowledgement_moves_response
            and self.respond.counts_from is not CountsFrom.ACKNOWLEDGEMENT
        ):
            raise ValueError(
                "late_acknowledgement_moves_response has no effect here: it applies only to a respond window"
                ' counted from the acknowledgement (respond = { ..., from = "acknowledgement" })'
            )
        # The starting point of the policy's own cadence: without one it means nothing (a cadence agreed with
        # the complainant runs from the acknowledgement or extension that agreed it). `progress_update_by`
        # is kept there: it says how updates at an agreed cadence are made too.
        if (
            self.progress_updates_from is not ProgressUpdatesFrom.ACKNOWLEDGEMENT
            and self.update_every_working_days is None
        ):
            raise ValueError(
                "progress_updates_from has no effect here: it says when this stage's own cadence starts;"
                " set update_every_working_days on the same stage (a cadence agreed with the complainant"
                " runs from the acknowledgement or extension that agreed it)"
            )
        # --- issue 28: combined windows and the matter_arose anchor belong to escalation_request only ---
        for name, window in (("acknowledge", self.acknowledge), ("respond", self.respond)):
            if window.is_combined:
                raise ValueError(f"{name}: later_of / earlier_of is for escalation_request windows only")
            if window.counts_from is CountsFrom.MATTER_AROSE:
                raise ValueError(f"{name}.from cannot be 'matter_arose' (an escalation_request limb may)")
        return self

    # --- issue 24 (seed rules)
    def escalation_needs(self) -> frozenset[EscalationNeed]:
        """What a request for the next stage must include under this stage's rules."""
        needs = set(self.escalation_requires)
        if self.escalation_reasons_required:
            needs.add(EscalationNeed.REASONS)
        return frozenset(needs)

    # --- end issue 24

    @staticmethod
    def _check_escalation_window(window: Window) -> None:
        combined = window.is_combined
        allowed: tuple[CountsFrom, ...] = (CountsFrom.RESPONSE, CountsFrom.RESPONSE_RECEIVED)
        if combined:
            # A limb may also count from the matter arising or from this stage's receipt (issue 28).
            allowed += (CountsFrom.MATTER_AROSE, CountsFrom.RECEIPT)
        for index, limb in enumerate(window.limbs):
            where = f"escalation_request.{'later_of' if window.later_of else 'earlier_of'}[{index}]"
            where = where if combined else "escalation_request"
            if limb.amount == 0:
                raise ValueError(f"{where}.amount must be at least 1")
            if limb.counts_from not in allowed:
                raise ValueError(f"{where}.from must be one of {', '.join(repr(a.value) for a in allowed)}")
        if combined and not any(
            limb.counts_from in (CountsFrom.RESPONSE, CountsFrom.RESPONSE_RECEIVED) for limb in window.limbs
        ):
            raise ValueError("escalation_request: at least one limb must count from the response")


# --- issue 28: an optional early-resolution step before Stage 1 ---
class EarlyResolution(_Strict):
    """A step before Stage 1, for three-tier procedures ("an early resolution within 5 working days, then a
    Stage 1 investigation, then a Stage 2 review").

    Resolved there, the complaint closes with that outcome. Otherwise Stage 1 starts, and its clock counts
    from the resident's request for an investigation or from the officer's decision that early resolution
    does not fit (that moment is Stage 1's receipt: `domain.deadlines.plan_stage(policy, 1, moment)`).
    """

    name: str = "Early resolution"
    handled_by: str = Field(description="Who tries to resolve the complaint early, as the policy names them.")
    # In working days from receipt: "within 5 working days".
    resolve: Window
    counting_starts: CountingStarts = CountingStarts.RECEIPT

    @model_validator(mode="after")
    def _resolve_window(self) -> EarlyResolution:
        if self.resolve.is_combined:
            raise ValueError("resolve: later_of / earlier_of is for escalation_request windows only")
        if self.resolve.unit is not Unit.WORKING_DAYS or self.resolve.counts_from is not CountsFrom.RECEIPT:
            raise ValueError('resolve must be in working_days from "receipt"')
        if self.resolve.amount == 0:
            raise ValueError("resolve.amount must be at least 1")
        return self


# Issue 28: the fields about asking for the next stage; on the last stage they would mean nothing.
ESCALATION_FIELDS = frozenset({"escalation_reasons_required", "late_escalation_at_discretion"})


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

    @model_validator(mode="after")
    def _representative_rules_need_representatives(self) -> Complainants:
        # Issue 28: rules about representatives mean nothing where no one may complain for another.
        if not self.representatives_allowed:
            for name in ("representative_consent", "representative_kinds"):
                if getattr(self, name) != type(self).model_fields[name].default:
                    raise ValueError(
                        f"{name} has no effect with representatives_allowed = false: remove it, or allow"
                        " representatives"
                    )
        return self

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

# --- issue 29 (6): service areas (begin) -------------------------------------------------------------------


class ServiceArea(_Strict):
    """A service a complaint can be about: a code (lists, filters, need-to-know, the Temporal UI's search
    attribute) and the label residents choose from."""

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
    label: str = Field(min_length=1, max_length=100)


DEFAULT_SERVICE_AREAS = (
    ServiceArea(code="housing-repairs", label="Housing repairs"),
    ServiceArea(code="housing", label="Housing (other)"),
    ServiceArea(code="waste", label="Bins, recycling and street cleaning"),
    ServiceArea(code="council-tax", label="Council tax and benefits"),
    ServiceArea(code="parking", label="Parking and roads"),
    ServiceArea(code="planning", label="Planning and building control"),
    ServiceArea(code="social-care", label="Adult or children's social care"),
    ServiceArea(code="general", label="Something else"),
)


class ServiceAreas(_Strict):
    """The policy's service areas (`[[service_areas]]`, default `DEFAULT_SERVICE_AREAS`) and where a complaint
    about anything else goes (`default_service_area`, triaged by the team that deals with it)."""

    service_areas: tuple[ServiceArea, ...] = Field(default=DEFAULT_SERVICE_AREAS, min_length=1)
    default_service_area: str = Field(default="general", description="Where an unlisted area goes.")

    @model_validator(mode="after")
    def _default_is_listed(self) -> ServiceAreas:
        codes = [area.code for area in self.service_areas]
        if len(codes) != len(set(codes)):
            raise ValueError("service area codes must be unique")
        if self.default_service_area not in codes:
            raise ValueError(f"default_service_area {self.default_service_area!r} is not in service_areas")
        return self

    def area_for(self, given: str) -> str:
        """`given` if it is one of the policy's areas, else the default area (never free text)."""
        return given if any(area.code == given for area in self.service_areas) else self.default_service_area

    def area_problem(self, given: str) -> str | None:
        """Why `given` is not one of the policy's areas, naming the allowed codes; None when it is one. What
        staff enter is checked against the list (refused), what a resident chooses is mapped (`area_for`)."""
        codes = [area.code for area in self.service_areas]
        if given in codes:
            return None
        return f"service_area: {given!r} is not one of this council's service areas: {', '.join(codes)}"


# --- issue 29 (6): service areas (end) ---------------------------------------------------------------------


class Policy(ServiceAreas):
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
    # --- issue 28: an optional early-resolution step before Stage 1 (none: complaints start at Stage 1) ---
    early_resolution: EarlyResolution | None = None
    # --- issue 25: an officer's response waits as a draft until a manager approves it (then it is sent) ---
    response_approval: bool = Field(
        default=False,
        description="A response by anyone but a manager is a draft until a manager (not its author) approves"
        " it; it is sent, and the stage answered, on approval.",
    )
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
    # --- issue 24 (seed rules)
    contact_restrictions: ContactRestrictions = ContactRestrictions()
    # --- end issue 24
    # --- Statutory figures (issue 26): what the Regulator's and the ombudsmen's rates are per. ------------
    homes_by_tenure: dict[Tenure, Annotated[int, Field(ge=1, le=10_000_000)]] = Field(
        default_factory=dict,
        description="Homes owned per tenure (low_cost_rental, low_cost_home_ownership, ...), for CH01.",
    )
    population: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        description="Residents of the council's area, for the ombudsmen's complaints per 1,000 population.",
    )
    # --- end of statutory figures -------------------------------------------------------------------------
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
        # --- issue 28: a field where it has no effect is refused, naming where it belongs ---
        # (A value other than the default: a policy copied whole, defaults included, must still load.)
        last = stages[-1]
        for name in sorted(
            name for name in ESCALATION_FIELDS if getattr(last, name) != Stage.model_fields[name].default
        ):
            before = (
                f"stage {stages[-2].number}, the stage the complainant asks to move on from"
                if len(stages) > 1
                else "no stage: a one-stage policy has nothing to escalate to"
            )
            raise ValueError(
                f"stage {last.number}: {name} has no effect on the last stage (there is no next stage to ask"
                f" for); it belongs on {before}"
            )
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
        # --- issue 24 (seed rules): nor is requiring anything else of a request for Stage 2.
        if self.ombudsman.body is Ombudsman.HOUSING_OMBUDSMAN and any(
            stage.escalation_requires for stage in self.stages
        ):
            raise ValueError(
                "stages: escalation_requires is not allowed under the Complaint Handling Code (6.12:"
                " residents must not be required to explain their reasons for requesting a stage 2)"
            )
        # --- end issue 24
        return self

    @model_validator(mode="after")
    def _response_receipt_is_used(self) -> Policy:
        # Issue 28: response_receipt only dates windows counted from the response being received.
        if self.response_receipt != ResponseReceipt() and not any(
            limb.counts_from is CountsFrom.RESPONSE_RECEIVED
            for stage in self.stages
            if stage.escalation_request is not None
            for limb in stage.escalation_request.limbs
        ):
            raise ValueError(
                "response_receipt has no effect: no escalation_request window counts from"
                ' "response_received" (set from = "response_received" on a stage\'s escalation_request)'
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
