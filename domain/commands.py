"""The messages staff and residents send to a complaint: one model per update or signal."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from domain.models import ActionItem, Actor, Outcome, Remedy


class Command(BaseModel):
    actor: Actor
    # The event sequence the sender last saw (from the complaint's ETag): when set, the action is refused if
    # anything happened since, checked atomically inside the workflow.
    expected_seq: int | None = None


class Acknowledge(Command):
    note: str = Field(default="", max_length=5_000)


class Assign(Command):
    assignee: str = Field(min_length=1, max_length=200)


class Decline(Command):
    exclusion_code: str = Field(min_length=1, max_length=60)
    reason: str = Field(min_length=1, max_length=5_000)


class RequestInformation(Command):
    request: str = Field(min_length=1, max_length=5_000)


class InformationReceived(Command):
    summary: str = Field(min_length=1, max_length=10_000)


class AddInformation(Command):
    """New information or a related new issue from the complainant, joined to this complaint."""

    summary: str = Field(min_length=1, max_length=10_000)


class OpenLinkedComplaint(Command):
    """An unrelated new issue raised during this complaint: it starts its own linked Stage 1 complaint."""

    summary: str = Field(min_length=1, max_length=10_000)
    desired_outcome: str = Field(default="", max_length=5_000)
    service_area: str | None = Field(default=None, min_length=1, max_length=100)


class Extend(Command):
    new_respond_by: date
    reason: str = Field(min_length=1, max_length=5_000)


class RecordExtensionAgreement(Command):
    """The complainant agreed (or refused) that the response may come later, up to a date."""

    agreed: bool
    up_to: date | None = None


class Respond(Command):
    outcome: Outcome
    findings: str = Field(min_length=1, max_length=20_000)
    remedies: list[Remedy] = Field(default_factory=list)
    actions: list[ActionItem] = Field(default_factory=list)


class CompleteAction(Command):
    action_id: str
    note: str = Field(default="", max_length=5_000)


class RequestEscalation(Command):
    reasons: str = Field(min_length=1, max_length=10_000)
    outcome_wanted: str = Field(default="", max_length=5_000)
    # Set by an officer accepting a request made after the window closed, with the reason for discretion.
    accept_late_reason: str | None = Field(default=None, max_length=5_000)


class RefuseEscalation(Command):
    reasons: str = Field(min_length=1, max_length=5_000)


class Close(Command):
    reason: str = Field(min_length=1, max_length=5_000)


class Withdraw(Command):
    reason: str = Field(default="", max_length=5_000)


class ReferToOmbudsman(Command):
    body: str = Field(default="", max_length=100)
    ombudsman_reference: str = Field(default="", max_length=100)


class RecordOmbudsmanDecision(Command):
    decision: str = Field(min_length=1, max_length=5_000)
    remedy: str = Field(default="", max_length=5_000)


class AddNote(Command):
    text: str = Field(min_length=1, max_length=10_000)


class RestrictContact(Command):
    reason: str = Field(min_length=1, max_length=5_000)
    until: date
    review_on: date


class RecalculateDeadlines(Command):
    reason: str = Field(min_length=1, max_length=2_000)
