"""What happens next to a complaint just made, by when and why: the dates the service fixed when it opened
the complaint (from the case record) and the policy's periods they come from, in residents' words. Shown
on the confirmation page and in the e-mailed copy of the complaint, so both say the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from api.resident.wording import window_words
from domain.policy import Policy, Unit, Window

NOT_COUNTED = "not counting weekends and bank holidays"


@dataclass(frozen=True)
class NextSteps:
    council: str
    acknowledge_by: date | None
    respond_by: date | None
    acknowledge_within: str  # "5 working days", "" when the council does not acknowledge first
    respond_within: str  # "15 working days"
    why: str  # "under London Borough of Bexley's complaints policy, not counting weekends and bank holidays"
    early_resolution: str  # the early step's name ("Early resolution"), "" when there is none
    urgent: str  # the policy's urgent-help line
    phone: str
    opening_hours: str


def _within(window: Window) -> str:
    return window_words(window)


def next_steps(policy: Policy, acknowledge_by: date | None, respond_by: date | None) -> NextSteps:
    """From the dates on the case record (early resolution: no acknowledgement date, a date to resolve by)."""
    first = policy.stages[0]
    early = policy.early_resolution is not None and acknowledge_by is None
    respond = policy.early_resolution.resolve if early and policy.early_resolution else first.respond
    working = {respond.unit, first.acknowledge.unit} & {Unit.WORKING_DAYS}
    why = f"under {policy.name}'s complaints policy"
    if working:
        why += f", {NOT_COUNTED}"
    contact = policy.resident_contact
    return NextSteps(
        council=policy.name,
        acknowledge_by=acknowledge_by,
        respond_by=respond_by,
        acknowledge_within="" if early else _within(first.acknowledge),
        respond_within=_within(respond),
        why=why,
        early_resolution=policy.early_resolution.name if early and policy.early_resolution else "",
        urgent=contact.urgent,
        phone=contact.phone,
        opening_hours=contact.opening_hours,
    )
