"""The messages staff and residents send to a complaint: one model per update or signal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.models import ActionItem, Actor, Learning, Outcome, Remedy, ResidentChannel, Role
from domain.policy import SentBy


class Command(BaseModel):
    actor: Actor
    # The event sequence the sender last saw (from the complaint's ETag): when set, the action is refused if
    # anything happened since, checked atomically inside the workflow.
    expected_seq: int | None = None


class Acknowledge(Command):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Acknowledged by email; summary and response date sent."}]}
    )

    note: str = Field(default="", max_length=5_000)
    # How often the complainant will hear how the investigation is going, as agreed with them (Barking and
    # Dagenham: "agree how often we will update you"); without it the policy's cadence, if any, applies.
    update_every_working_days: int | None = Field(default=None, ge=1, le=60)


class Assign(Command):
    model_config = ConfigDict(json_schema_extra={"examples": [{"assignee": "ian.investigator"}]})

    assignee: str = Field(min_length=1, max_length=200)
    # Filled in by the API from the staff directory; None when the person is not known there.
    assignee_role: Role | None = None


class Decline(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"exclusion_code": "service-request", "reason": "A first report of a missed collection."}
            ]
        }
    )

    exclusion_code: str = Field(min_length=1, max_length=60)
    reason: str = Field(min_length=1, max_length=5_000)


class RequestInformation(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"request": "Please send photos of the damp and the dates you reported it."}]
        }
    )

    request: str = Field(min_length=1, max_length=5_000)


class InformationReceived(Command):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"summary": "Three photos and a list of dates received by email."}]}
    )

    summary: str = Field(min_length=1, max_length=10_000)


class AddInformation(Command):
    """New information or a related new issue from the complainant, joined to this complaint."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"summary": "The resident reports mould has spread to the hallway."}]}
    )

    summary: str = Field(min_length=1, max_length=10_000)
    # --- issue 27: when the message arrived (an e-mail delivered late by the inbound sweep after an outage,
    # a letter logged later): the event carries it, not the time it was processed. Not in the future.
    received_at: AwareDatetime | None = None


class OpenLinkedComplaint(Command):
    """An unrelated new issue raised during this complaint: it starts its own linked Stage 1 complaint."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"summary": "Also: the bins were not collected for three weeks.", "service_area": "waste"}
            ]
        }
    )

    summary: str = Field(min_length=1, max_length=10_000)
    desired_outcome: str = Field(default="", max_length=5_000)
    service_area: str | None = Field(default=None, min_length=1, max_length=100)
    # --- issue 24 (seed rules): when the resident raised the new issue (a letter or a call logged later),
    # as for an escalation request: the new complaint's windows count from it. Default: now.
    received_at: AwareDatetime | None = None
    # --- end issue 24


class Extend(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"new_respond_by": "2027-01-15", "reason": "The contractor survey is booked for 8 January."}
            ]
        }
    )

    new_respond_by: date
    reason: str = Field(min_length=1, max_length=5_000)
    # "If we need more time, we will explain this in writing and agree how often we will update you"
    # (Barking and Dagenham): the cadence agreed with the complainant, from now on.
    update_every_working_days: int | None = Field(default=None, ge=1, le=60)


class AskExtensionAgreement(Command):
    """Ask the complainant whether they agree that the response may come later than the policy allows, up
    to a date, and why: the resident's page asks the question (and only then), the letter explains it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"up_to": "2027-01-29", "reason": "The contractor survey is booked for 8 January."}]
        }
    )

    up_to: date
    reason: str = Field(min_length=1, max_length=5_000)


class RecordExtensionAgreement(Command):
    """The complainant agreed (or refused) that the response may come later, up to a date."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"agreed": True, "up_to": "2027-01-29"}]})

    agreed: bool
    up_to: date | None = None


class Respond(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "outcome": "partially_upheld",
                    "findings": "The repair was booked late.",
                    "remedies": [
                        {"kind": "apology", "description": "We apologise for the delay."},
                        {
                            "kind": "financial_redress",
                            "description": "Compensation for the damaged furniture.",
                            "amount_pence": 15000,
                        },
                    ],
                    "actions": [
                        {
                            "id": "fix-damp",
                            "description": "Treat the damp and redecorate",
                            "owner": "repairs",
                            "due_on": "2027-02-01",
                        }
                    ],
                    "learning": {
                        "root_cause": "process-not-followed",
                        "lessons": "Damp reports were booked as routine repairs.",
                        "improvements": [
                            {
                                "id": "triage-damp",
                                "description": "Triage every damp report as urgent",
                                "owner": "repairs-manager",
                                "due_on": "2027-03-01",
                            }
                        ],
                    },
                }
            ]
        }
    )

    outcome: Outcome
    findings: str = Field(min_length=1, max_length=20_000)
    # How the response went out: a posted letter reaches the complainant days later, and where the policy
    # counts the escalation window from receipt of the response, that moves the window's end.
    sent_by: SentBy = SentBy.EMAIL
    # Bounded so one response stays one small event: more belong in an action plan of their own.
    remedies: list[Remedy] = Field(default_factory=list, max_length=20)
    actions: list[ActionItem] = Field(default_factory=list, max_length=30)
    # Why it went wrong and what will change: the root cause is one of the policy's, improvements are
    # tracked like the promised actions.
    learning: Learning | None = None


class CompleteAction(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"action_id": "fix-damp", "note": "Treated and redecorated on 28 January."}]
        }
    )

    action_id: str
    note: str = Field(default="", max_length=5_000)


class RequestEscalation(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"reasons": "The damp has come back.", "outcome_wanted": "A full survey of the flat."}
            ]
        }
    )

    # The Complaint Handling Code (6.12): residents must not be required to explain why they want Stage 2.
    reasons: str = Field(default="", max_length=10_000)
    outcome_wanted: str = Field(default="", max_length=5_000)
    # When the request actually arrived (a letter or a call logged later): it decides whether the request
    # was in time and when Stage 2's windows start. Default: now.
    received_at: datetime | None = None
    # Set by an officer accepting a request made after the window closed, with the reason for discretion.
    accept_late_reason: str | None = Field(default=None, max_length=5_000)


class RefuseEscalation(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reasons": "No reasons were given for disagreeing with the Stage 1 response."}]
        }
    )

    reasons: str = Field(min_length=1, max_length=5_000)


class Close(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "You told us the repair is done and you are happy with it.",
                    "complainant_does_not_want_next_stage": True,
                }
            ]
        }
    )

    reason: str = Field(min_length=1, max_length=5_000, description="Why, in words for the closure letter.")
    # While the complainant can still ask for the next stage, the complaint closes by itself when that window
    # ends: closing it sooner takes their word that they do not want the next stage (issue 30).
    complainant_does_not_want_next_stage: bool = False


class Withdraw(Command):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Resolved informally."}]})

    reason: str = Field(default="", max_length=5_000)


class ReferToOmbudsman(Command):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"body": "housing-ombudsman", "ombudsman_reference": "HO-2027-1234"}]}
    )

    body: str = Field(default="", max_length=100)
    ombudsman_reference: str = Field(default="", max_length=100)


class RecordOmbudsmanDecision(Command):
    """The ombudsman's decision as data (domain/ombudsman_decisions.py): a determination from the
    vocabulary of the complaint's ombudsman, a finding of complaint-handling failure, and the orders or
    recommendations, tracked to done like promised actions. The ombudsman's words are a note on the event."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "determination": "fault_causing_injustice",
                    "complaint_handling_failure": True,
                    "orders": [
                        {
                            "id": "pay-200",
                            "description": "Pay a further 200 pounds for the distress",
                            "owner": "housing-manager",
                            "due_on": "2027-02-26",
                        }
                    ],
                    "decision": "The council took too long to treat the damp.",
                }
            ]
        }
    )

    determination: str = Field(
        min_length=1, max_length=60, description="One of the determinations of the complaint's ombudsman."
    )
    complaint_handling_failure: bool = Field(
        default=False, description="The ombudsman found the council's complaint handling at fault."
    )
    orders: list[ActionItem] = Field(
        default_factory=list,
        max_length=20,
        description="What the ombudsman ordered or recommended, each with an owner and a due date.",
    )
    decision: str = Field(default="", max_length=5_000, description="The ombudsman's words (a note).")
    remedy: str = Field(default="", max_length=5_000)


class AddNote(Command):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "Called the resident; visit booked for Tuesday."}]}
    )

    text: str = Field(min_length=1, max_length=10_000)


class RecordRepresentativeConsent(Command):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"consent_kind": "written", "received_on": "2026-11-20"}]}
    )

    # What came in: the complainant's signed consent, or (where the policy accepts it) their word.
    consent_kind: Literal["written", "verbal"]
    received_on: date


class RestrictContact(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "Repeated abusive calls to the team.",
                    "until": "2027-06-30",
                    "review_on": "2027-03-31",
                }
            ]
        }
    )

    reason: str = Field(min_length=1, max_length=5_000)
    until: date
    review_on: date
    # The online channels closed to this person, for all their complaints, while the restriction lasts.
    channels: list[ResidentChannel] = Field(
        default_factory=lambda: [ResidentChannel.MESSAGES, ResidentChannel.EVIDENCE],
        min_length=1,
        max_length=3,
    )
    # --- issue 24 (seed rules): where the policy provides for it (`contact_restrictions.
    # may_stop_correspondence`), a restriction on a matter already addressed also stops correspondence on it
    # until `until` (council-004: "no further correspondence and/or communication will be entered into until
    # the expiration of the agreed time period").
    stops_correspondence: bool = False
    # --- end issue 24


class LiftContactRestriction(Command):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Reviewed: contact has been respectful since March."}]}
    )

    reason: str = Field(min_length=1, max_length=5_000)


class RecalculateDeadlines(Command):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "A new bank holiday was announced."}]}
    )

    reason: str = Field(min_length=1, max_length=2_000)


# ------------------------------------------------------------------------------------------ signals
# For channels that cannot wait for an answer (an inbound e-mail or letter-scanning integration, a contact
# centre system, an operator in the Temporal UI): applied by the same rules as the Updates; one the rules
# refuse is recorded as a refused event and staff are told, never silently dropped.


class NewInformationSignal(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"text": "Photos of the damp attached.", "channel": "email", "received_at": None}]
        }
    )

    text: str = Field(min_length=1, max_length=10_000)
    channel: str = Field(default="email", max_length=40)
    received_at: datetime | None = None


class EscalationRequestSignal(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reasons": "The damp is back.", "outcome_wanted": "A survey.", "received_at": None}]
        }
    )

    reasons: str = Field(default="", max_length=10_000)
    outcome_wanted: str = Field(default="", max_length=5_000)
    channel: str = Field(default="email", max_length=40)
    received_at: datetime | None = None


# --- issue 28: the early-resolution step before Stage 1 ---
class ResolveEarly(Command):
    """Resolved at the policy's early-resolution step: the complaint closes with this outcome."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"outcome": "upheld", "findings": "The missed collection was made the next morning."}
            ]
        }
    )

    outcome: Outcome
    findings: str = Field(min_length=1, max_length=20_000)


class StartInvestigation(Command):
    """Early resolution ends without a resolution: Stage 1's clock starts (from `received_at`), because the
    complainant asked for an investigation (`requested`) or the officer decided early resolution does not
    fit (`not_suitable`)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"because": "not_suitable", "note": "Needs a site visit."}]}
    )

    because: Literal["requested", "not_suitable"]
    note: str = Field(default="", max_length=5_000)
    # When the complainant actually asked for an investigation (a call or letter logged later), or the
    # decision was taken: Stage 1's windows count from it, as RequestEscalation.received_at does for the next
    # stage. Not in the future, not before the complaint arrived. Default: now.
    received_at: datetime | None = None


# --- issue 25: a manager's approval of a response (policy field `response_approval`) ---
# Fields the service fills in itself, never sent by staff: the API's body and the console's form leave them
# out (api.routes.actions.body_model), and api.casework sets them from the draft on the event trail.
FILLED_BY_SERVICE = frozenset({"draft", "draft_seq"})


class ApproveResponse(Command):
    """A manager approves the response drafted by an officer: it is sent now, and the stage is answered on
    this date (the date the resident gets it, which the Code counts)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "Checked the remedy with finance."}]})

    note: str = Field(default="", max_length=5_000)
    # The draft as recorded on the event trail (its body, and the sequence of its event), filled in by the
    # service: the manager approves exactly what they were shown.
    draft: dict[str, Any] | None = None
    draft_seq: int | None = None


class ReturnResponse(Command):
    """A manager returns the drafted response to its officer with the reason: nothing is sent."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Say what the remedy is worth and when it will be paid."}]}
    )

    reason: str = Field(min_length=1, max_length=5_000)
