"""The complaint's domain models: what the workflow carries and what its messages take.

Every workflow input, signal, update, query and activity takes one of these models, so fields can be added
later (with defaults) without breaking running workflows.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from domain.deadlines import StageDeadlines
from domain.policy import Policy
from domain.tsm import Tenure


class Status(StrEnum):
    RECEIVED = "received"
    DECLINED = "declined"
    ACKNOWLEDGED = "acknowledged"
    AWAITING_INFORMATION = "awaiting_information"
    RESPONDED = "responded"
    ESCALATION_REQUESTED = "escalation_requested"
    ESCALATION_REFUSED = "escalation_refused"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


FINAL_STATUSES = frozenset({Status.DECLINED, Status.ESCALATION_REFUSED, Status.CLOSED, Status.WITHDRAWN})


class Channel(StrEnum):
    PHONE = "phone"
    LETTER = "letter"
    EMAIL = "email"
    WEB = "web"
    SOCIAL_MEDIA = "social_media"
    IN_PERSON = "in_person"


class ContactPreference(StrEnum):
    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"


class Outcome(StrEnum):
    UPHELD = "upheld"
    PARTIALLY_UPHELD = "partially_upheld"
    NOT_UPHELD = "not_upheld"


class RemedyKind(StrEnum):
    APOLOGY = "apology"
    ACTION = "action"
    FINANCIAL_REDRESS = "financial_redress"
    EXPLANATION = "explanation"
    DECISION_CHANGED = "decision_changed"
    # A review of a policy or procedure the complaint showed to be wrong (Bexley "putting things right").
    POLICY_REVIEW = "policy_review"


class ActionKind(StrEnum):
    """Why an action was promised: to put things right for this complainant (a remedy), or to stop it
    happening to others (an improvement the complaint taught the council)."""

    REMEDY = "remedy"
    IMPROVEMENT = "improvement"
    # What the ombudsman ordered or recommended (record-ombudsman-decision), tracked to done the same way.
    OMBUDSMAN_ORDER = "ombudsman_order"


class ResidentChannel(StrEnum):
    """The online channels a contact restriction can close, for every complaint of the person. Following
    a complaint and asking for the next stage or the ombudsman always stay open."""

    MESSAGES = "messages"  # new information sent online
    EVIDENCE = "evidence"  # files uploaded online
    NEW_COMPLAINTS = "new_complaints"  # a new complaint through the public form


class Role(StrEnum):
    COMPLAINTS_OFFICER = "complaints_officer"
    INVESTIGATOR = "investigator"
    REVIEWER = "reviewer"
    MANAGER = "manager"
    ADMIN = "admin"
    AUDITOR = "auditor"
    RESIDENT = "resident"
    SYSTEM = "system"


class Actor(BaseModel):
    """Who did something: a staff member, the resident (or representative), or the system's timers."""

    id: str
    role: Role
    name: str = ""


SYSTEM = Actor(id="system", role=Role.SYSTEM, name="Complaints service")


class AdjustmentKind(StrEnum):
    """Reasonable adjustments a complainant may need (Equality Act 2010)."""

    LARGE_PRINT = "large_print"
    EASY_READ = "easy_read"
    BSL = "bsl"
    OTHER_LANGUAGE = "other_language"
    ADVOCATE = "advocate"
    OTHER = "other"


class LetterFormat(StrEnum):
    STANDARD = "standard"
    LARGE_PRINT = "large_print"
    EASY_READ = "easy_read"
    BRAILLE = "braille"
    AUDIO = "audio"


class Adjustments(BaseModel):
    """What the complainant needs from us to take part on equal terms; staff see it on the case and in
    every notice, and letters honour the format."""

    kinds: list[AdjustmentKind] = Field(default_factory=list, max_length=6)
    details: str = Field(default="", max_length=1000, description="In the complainant's words")
    preferred_language: str | None = Field(default=None, max_length=60, examples=["Polish", "BSL"])
    preferred_format: LetterFormat = LetterFormat.STANDARD

    @property
    def large_print(self) -> bool:
        return self.preferred_format is LetterFormat.LARGE_PRINT or AdjustmentKind.LARGE_PRINT in self.kinds

    def summary(self) -> str:
        """One line for staff notices (empty when nothing was asked for)."""
        parts = [kind.value.replace("_", " ") for kind in self.kinds]
        if self.preferred_language:
            parts.append(f"language: {self.preferred_language}")
        if self.preferred_format is not LetterFormat.STANDARD:
            parts.append(f"format: {self.preferred_format.value.replace('_', ' ')}")
        if self.details:
            parts.append(self.details)
        return "; ".join(parts)


class Complainant(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)
    preferred_contact: ContactPreference = ContactPreference.EMAIL
    # Optional, with a default: histories recorded before it deserialise unchanged.
    adjustments: Adjustments | None = None


class Representative(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    relationship: str = Field(default="", max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    consent_recorded: bool = Field(description="The complainant's consent for this person to act is on file.")
    consent_kind: str = Field(
        default="written", description="written, verbal or declared (on the public form), as the policy needs"
    )
    # Optional, with a default: histories recorded before it deserialise unchanged.
    consent_recorded_on: date | None = Field(default=None, description="The day the consent was put on file.")
    kind: str = Field(
        default="other",
        max_length=40,
        description="family, friend, advocate, carer, solicitor, councillor, mp...",
    )


class Intake(BaseModel):
    """What was received: the facts of a new complaint (shared by the API, the workflow and the store)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    policy_id: str
    received_at: datetime
    channel: Channel
    complainant: Complainant
    representative: Representative | None = None
    anonymous: bool = False
    service_area: str = Field(min_length=1, max_length=100)
    summary: str = Field(min_length=1, max_length=10_000)
    desired_outcome: str = Field(default="", max_length=5_000)
    staff_complained_about: list[str] = Field(default_factory=list)
    handled_by_senior: bool = Field(
        default=False,
        description="The complaint is about an investigating officer: a manager handles and answers it.",
    )
    related_to: str | None = Field(default=None, description="Reference of the complaint this one came from.")
    matter_arose_on: date | None = Field(
        default=None, description="When the matter happened or came to the complainant's notice."
    )
    out_of_time_reason: str | None = Field(
        default=None, description="Why a complaint past the policy's time limit was accepted at discretion."
    )
    tenure: Tenure | None = Field(
        default=None, description="The complainant's tenure, for the Regulator's CH01 (optional)."
    )
    parties_from: str | None = Field(
        default=None,
        description="A linked complaint's parent reference: the complainant and representative are copied"
        " from its case record when the case row is created (so the workflow never carries them).",
    )

    def facts(self) -> CaseIntake:
        """What the workflow keeps of the intake: no story, no name, no contact details."""
        representative = self.representative
        return CaseIntake(
            policy_id=self.policy_id,
            received_at=self.received_at,
            channel=self.channel,
            anonymous=self.anonymous,
            service_area=self.service_area,
            staff_complained_about=list(self.staff_complained_about),
            handled_by_senior=self.handled_by_senior,
            related_to=self.related_to,
            matter_arose_on=self.matter_arose_on,
            accepted_out_of_time=bool(self.out_of_time_reason),
            tenure=self.tenure,
            representative=(
                RepresentativeConsent(
                    consent_recorded=representative.consent_recorded,
                    consent_kind=representative.consent_kind,
                    consent_recorded_on=representative.consent_recorded_on,
                    kind=representative.kind,
                )
                if representative is not None
                else None
            ),
        )


class RepresentativeConsent(BaseModel):
    """What the workflow knows of a representative: whether their consent is on file (never who they are)."""

    consent_recorded: bool
    consent_kind: str = "written"
    consent_recorded_on: date | None = None
    kind: str = "other"


class CaseIntake(BaseModel):
    """The intake as the workflow keeps it (issue 23): ids, dates, flags and codes it decides on. The story,
    the outcome wanted, the reason for accepting out of time and every detail of the people are in the case
    record (PostgreSQL), written with the first event."""

    policy_id: str
    received_at: datetime
    channel: Channel
    anonymous: bool = False
    service_area: str
    staff_complained_about: list[str] = Field(default_factory=list)
    handled_by_senior: bool = False
    related_to: str | None = None
    matter_arose_on: date | None = None
    accepted_out_of_time: bool = False
    tenure: Tenure | None = None
    representative: RepresentativeConsent | None = None


class Due(BaseModel):
    """A deadline: the council's local date, the instant it passes (the end of that day) and when staff are
    reminded of it."""

    on: date
    at: datetime
    reminders: list[datetime] = Field(default_factory=list)


class StagePlan(BaseModel):
    """A stage's deadlines as the policy engine computed them, with the instants the timers wait for."""

    deadlines: StageDeadlines
    acknowledge: Due
    respond: Due
    extension_limit: Due | None
    # Issue 28: the policy's early-resolution step before Stage 1, when it has one (planned with Stage 1).
    early_resolution: Due | None = None


class ClockResumed(BaseModel):
    """A stopped response clock restarted: the working days it was stopped and the dates moved by them."""

    working_days_lost: int
    respond: Due
    extension_limit: Due | None


LEDGER_REASON_CHARS = 200


class LedgerEntry(BaseModel):
    """One line of the response-date ledger: how the date the resident was told came to be."""

    at: datetime
    kind: str  # planned | clock_stopped | clock_restarted | extended | recalculated
    respond_by: date
    working_days: int = 0
    reason: str = ""

    @field_validator("reason")
    @classmethod
    def _short(cls, reason: str) -> str:
        """The ledger is carried by the workflow: it keeps the start of a reason (the whole of it is on the
        event trail in PostgreSQL), so a case extended many times with long reasons stays small."""
        return reason if len(reason) <= LEDGER_REASON_CHARS else reason[: LEDGER_REASON_CHARS - 1] + "…"


class Pause(BaseModel):
    """A stop of the response clock (what was asked is on the event trail, not here)."""

    started_at: datetime
    ended_at: datetime | None = None
    working_days_lost: int = 0


class Remedy(BaseModel):
    kind: RemedyKind
    description: str = Field(min_length=1, max_length=2_000)
    amount_pence: int | None = Field(default=None, ge=0)


class RemedyFact(BaseModel):
    """A remedy as reports count it: its kind and any compensation (never its wording)."""

    kind: RemedyKind
    amount_pence: int | None = None


class ActionItem(BaseModel):
    """A promised action with an owner and a due date, tracked until done (even after closure)."""

    id: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=2_000)
    owner: str = Field(min_length=1, max_length=200)
    due_on: date
    due_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    overdue: bool = False
    kind: ActionKind = ActionKind.REMEDY

    def tracked(self, due_at: datetime) -> TrackedAction:
        """The action as the workflow tracks it, open, without its description (the case record has it)."""
        return TrackedAction(id=self.id, owner=self.owner, due_on=self.due_on, due_at=due_at, kind=self.kind)


class TrackedAction(BaseModel):
    """A promised action as the workflow tracks it: id, owner, dates and flags; the description is on the
    event that promised it and in the case record (issue 23)."""

    id: str = Field(min_length=1, max_length=60)
    owner: str = Field(min_length=1, max_length=200)
    due_on: date
    due_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    overdue: bool = False
    kind: ActionKind = ActionKind.REMEDY


class Learning(BaseModel):
    """What the council learned from a complaint, recorded with the response: why it went wrong (one of the
    policy's root causes, so reports can count themes), the lessons, and improvements tracked as actions."""

    root_cause: str = Field(min_length=1, max_length=60)
    lessons: str = Field(default="", max_length=5_000)
    improvements: list[ActionItem] = Field(default_factory=list, max_length=20)


class StageState(BaseModel):
    number: int
    received_at: datetime
    plan: StagePlan
    respond_by: date
    extension_limit_by: date | None
    acknowledged_at: datetime | None = None
    responded_at: datetime | None = None
    responded_by: str | None = None
    assigned_to: str | None = None
    outcome: Outcome | None = None
    # The remedies' kinds and amounts (their wording is on the response's event and letter).
    remedies: list[RemedyFact] = Field(default_factory=list)
    ledger: list[LedgerEntry] = Field(default_factory=list)
    pauses: list[Pause] = Field(default_factory=list)
    escalation_request_by: Due | None = None
    agreed_up_to: date | None = Field(
        default=None, description="The latest response date the complainant has agreed to, if any."
    )
    extension_limit_passed: bool = False
    acknowledgement_overdue: bool = False
    response_overdue: bool = False
    reminders_sent: list[str] = Field(default_factory=list)
    # The response's root cause (one of the policy's); the lessons are on the response's event.
    root_cause: str | None = None
    # Keeping the complainant informed while the stage is investigated: the cadence agreed with them (else
    # the policy's) and when the next progress update is due.
    update_every_working_days: int | None = None
    next_update: Due | None = None
    # --- issue 24 (seed rules): the staff who took any action on this stage (ids, each once: bounded by the
    # team), so Stage 2 can be kept independent of everyone who worked on Stage 1 where the policy asks.
    acted_by: list[str] = Field(default_factory=list)
    # --- end issue 24
    # --- issue 28: the early-resolution step before Stage 1 (Stage 1 only, when the policy has one) ---
    # Its deadline; how it ended (resolved | requested | not_suitable; None while it runs); whether it was
    # late.
    early_resolution: Due | None = None
    early_resolution_ended: str | None = None
    early_resolution_overdue: bool = False
    # --- issue 25: a response drafted for a manager's approval (policy `response_approval`): who drafted it
    # and the sequence of its event (its text is on the event trail only); None when no draft waits.
    draft_response_by: str | None = None
    draft_response_seq: int | None = None
    # Everyone ever assigned this stage (distinct staff ids), for the next stage's independence rule.
    assigned_ever: list[str] = Field(default_factory=list)
    # How the stage ended (declined, withdrawn, closed, escalation refused) and when, for the reports; a
    # stage reopened by a late request for the next stage keeps its ending. The exclusion it was declined for.
    ended: Status | None = None
    ended_at: datetime | None = None
    exclusion: str | None = None

    @property
    def at_early_resolution(self) -> bool:
        """Is the early-resolution step still running (Stage 1's clock not yet started)?"""
        return self.number == 1 and self.early_resolution is not None and self.early_resolution_ended is None


class Transition(BaseModel):
    seq: int
    at: datetime
    action: str
    actor: Actor
    stage: int
    from_status: Status
    to_status: Status
    detail: dict[str, Any] = Field(default_factory=dict)


class Notification(BaseModel):
    """A letter or email the policy promises: written to the outbox with the event that caused it."""

    template: str
    audience: str  # complainant | staff | manager
    recipient: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


class ComplaintState(BaseModel):
    """What the workflow decides on (returned by the `state` query): status, stages, dates, ledger, promised
    actions, counts and ids. Never the event trail nor free text written during the case (notes, messages,
    findings, letters): those are written to PostgreSQL by the record activity with each event, so the state,
    the continue-as-new input and the query stay the same size however much is written on a complaint.
    """

    reference: str
    intake: CaseIntake
    status: Status
    stage: int
    stages: list[StageState]
    assigned_to: str | None = None
    overdue: bool = False
    next_deadline: datetime | None = None
    actions: list[TrackedAction] = Field(default_factory=list)
    # How many notes staff added and how many messages with new information arrived (texts in PostgreSQL).
    notes_added: int = 0
    information_received: int = 0
    # The day the officer was last told of a message from the resident (told once a day, not per message).
    resident_message_notified_on: date | None = None
    # How many events were recorded (the next one's sequence number) and when the last one happened.
    events: int = 0
    last_event_at: datetime | None = None
    # The last few transitions without their text (domain.lifecycle.RECENT_EVENTS): what a rebuild can put
    # back of an event trail lost in PostgreSQL.
    recent: list[Transition] = Field(default_factory=list)
    related_complaints: list[str] = Field(default_factory=list)
    ombudsman: dict[str, Any] = Field(default_factory=dict)
    contact_restriction: dict[str, Any] | None = None
    seq: int = 0
    # Why the complaint ended, as a code or the service's own words (a closing officer's reason is on the
    # event): "escalation window closed" is the one a rule reads.
    closure_reason: str = ""

    @property
    def current(self) -> StageState:
        return self.stages[-1]

    def stage_state(self, number: int) -> StageState | None:
        return next((stage for stage in self.stages if stage.number == number), None)


class CaseRow(BaseModel):
    """The read model's columns after an event: what lists, filters and reports read."""

    stage: int
    status: Status
    assigned_to: str | None = None
    acknowledge_by: date | None = None
    respond_by: date | None = None
    extension_limit_by: date | None = None
    escalation_request_by: date | None = None
    acknowledged_at: datetime | None = None
    responded_at: datetime | None = None
    outcome: Outcome | None = None
    overdue: bool = False
    next_deadline: datetime | None = None

    @classmethod
    def of(cls, state: ComplaintState) -> CaseRow:
        stage = state.current
        acknowledge_by: date | None = stage.plan.deadlines.acknowledge_by
        respond_by: date | None = stage.respond_by
        if stage.at_early_resolution and stage.early_resolution is not None:
            # Stage 1's dates (counted from receipt) do not run yet: lists, reports and the resident see
            # the early resolution's date as the response date, and no acknowledgement date.
            acknowledge_by, respond_by = None, stage.early_resolution.on
        return cls(
            stage=state.stage,
            status=state.status,
            assigned_to=state.assigned_to,
            acknowledge_by=acknowledge_by,
            respond_by=respond_by,
            extension_limit_by=stage.extension_limit_by,
            escalation_request_by=stage.escalation_request_by.on if stage.escalation_request_by else None,
            acknowledged_at=stage.acknowledged_at,
            responded_at=stage.responded_at,
            outcome=stage.outcome,
            overdue=state.overdue,
            next_deadline=state.next_deadline,
        )


class StageFacts(BaseModel):
    """What reports need to know about one stage of a complaint, in the council's local dates.

    Built by `domain.facts.stage_facts` from the state after every event and stored with the event
    (`complaint_stages`): small on purpose (it travels in every record activity's input), so no free text.
    The complaint-wide facts (promised actions, the ombudsman) ride along and land on the case row.
    """

    number: int
    received_on: date
    day_zero: date
    acknowledge_by: date
    acknowledged_on: date | None = None
    original_respond_by: date
    respond_by: date
    respond_by_when_answered: date | None = None
    responded_on: date | None = None
    working_days_to_respond: int | None = None
    closed_on: date | None = None
    ended: str | None = None  # declined | withdrawn | closed | escalation_refused, when the stage ended so
    outcome: Outcome | None = None
    exclusion: str | None = None
    extensions: int = 0
    extension_working_days: int = 0
    extended_with_agreement: bool = False
    clock_stops: int = 0
    clock_stopped_working_days: int = 0
    remedies: list[RemedyFact] = Field(default_factory=list)
    stage2_by_other_than_stage1: bool | None = None
    # The response's root cause (one of the policy's), so reports count the year's learning themes.
    root_cause: str | None = Field(default=None, max_length=60)
    # Issue 28: how the early-resolution step before Stage 1 ended (resolved | requested | not_suitable).
    early_resolution: str | None = None
    # Complaint-wide.
    actions_promised: int = 0
    actions_done: int = 0
    actions_overdue: int = 0
    ombudsman_referred_on: date | None = None
    ombudsman_decided_on: date | None = None
    ombudsman_decision: str | None = Field(default=None, max_length=100)
    # The Complaint Handling Code's dates (domain/tsm.py): filled by the record activity and the rebuild,
    # with the council's calendar, never by the workflow.
    code_acknowledge_by: date | None = None
    code_respond_by: date | None = None


class Receipt(BaseModel):
    """What an action answers: enough to confirm it and to send the next one (the ETag); readers get the
    complaint from the read model. Small on purpose: every update result is stored in the history."""

    reference: str
    seq: int
    status: Status
    stage: int

    @property
    def etag(self) -> str:
        return f'"{self.reference}.{self.seq}"'


class OpenComplaint(BaseModel):
    """The workflow's input. A new complaint carries its intake (recorded with the first event, then never
    kept); a continued run carries `state` and `policy` instead, and no intake (issue 23)."""

    reference: str
    intake: Intake | None = None
    opened_by: Actor
    state: ComplaintState | None = None
    policy: Policy | None = None
    continue_as_new_after_events: int | None = Field(
        default=None, description="Override of the history length that triggers continue-as-new (tests)."
    )
