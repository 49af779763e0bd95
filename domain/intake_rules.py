"""What a council's policy asks of a new complaint before it is taken on: who may represent the complainant
(with what consent on file) and the time limit for making a complaint. Pure functions, shared by the staff
API and the resident pages; each returns a reason a person can act on, or None."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.calendar import add_months
from domain.models import Representative
from domain.policy import ConsentNeeded, Policy

# The public form's declaration, ticked by the representative: "I have the complainant's consent to act for
# them". It is their word, not a document.
DECLARED = "declared"


def check_representative(
    policy: Policy, representative: Representative | None, *, consent_may_follow: bool = False
) -> str | None:
    """Why the policy refuses this representative, or None. With `consent_may_follow` (the public form),
    consent not yet on file is no refusal: the representative is named but does not act until it is."""
    if representative is None:
        return None
    rules = policy.complainants
    if not rules.representatives_allowed:
        return "representative: this policy does not accept representatives"
    if representative.kind not in rules.representative_kinds:
        allowed = ", ".join(rules.representative_kinds)
        return (
            f"representative.kind: {policy.name} does not accept a {representative.kind} as a representative"
            f" (accepted: {allowed})"
        )
    consent_needed = rules.representative_consent is not ConsentNeeded.NONE
    if consent_needed and not representative.consent_recorded and not consent_may_follow:
        return "representative: the complainant's consent must be recorded before a representative can act"
    if representative.consent_recorded and not rules.consent_accepted(representative.consent_kind):
        return (
            f"representative.consent_kind: {policy.name} needs {rules.representative_consent.value} consent"
            f" on file, not {representative.consent_kind}"
        )
    return None


def with_declared_consent(
    policy: Policy, representative: Representative, declared_on: date
) -> Representative:
    """The representative as the public form records them once they ticked the declaration: consent on file
    (kind `declared`, that day) where the policy accepts it; else, where written consent is needed, consent
    pending: letters go to the complainant, and the representative gets no access, until staff record it."""
    if policy.complainants.consent_accepted(DECLARED):
        changes = {"consent_recorded": True, "consent_kind": DECLARED, "consent_recorded_on": declared_on}
    else:
        needed = policy.complainants.representative_consent.value
        changes = {"consent_recorded": False, "consent_kind": needed, "consent_recorded_on": None}
    return representative.model_copy(update=changes)


# --- issue 24 (seed rules)
def received_on(policy: Policy, received: datetime | date) -> date:
    """The council's local day of receipt. Dates are local everywhere: 23:30 UTC on a summer evening is
    already the next day in London, so a complaint made then is made on that next day."""
    if isinstance(received, datetime):
        if received.tzinfo is None:
            raise ValueError("a datetime must carry a timezone to be placed in the council's day")
        return received.astimezone(ZoneInfo(policy.timezone)).date()
    return received


# --- end issue 24


def out_of_time(policy: Policy, received: datetime | date, matter_arose_on: date | None) -> bool:
    """Made later than the policy's time limit after the matter happened (or came to notice), counted in the
    council's local dates ("Complaints must be made no later than 12 months after the date on which the
    matter occurred", Barking and Dagenham)?"""
    if matter_arose_on is None:
        return False
    return add_months(matter_arose_on, policy.time_limit.months) < received_on(policy, received)


def check_time_limit(
    policy: Policy, received: datetime | date, matter_arose_on: date | None, reason: str | None
) -> str | None:
    if matter_arose_on is not None and matter_arose_on > received_on(policy, received):
        return "matter_arose_on: cannot be after the complaint was received"
    if not out_of_time(policy, received, matter_arose_on):
        return None
    months = policy.time_limit.months
    if not policy.time_limit.late_at_discretion:
        return (
            f"matter_arose_on: more than {months} months before the complaint, outside {policy.name}'s time"
            " limit: decline it as out of time"
        )
    if not (reason or "").strip():
        return (
            f"out_of_time_reason: the matter arose more than {months} months before the complaint; give the"
            " reason for taking it on at the council's discretion, or decline it as out of time"
        )
    return None
