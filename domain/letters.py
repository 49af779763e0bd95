"""The letters and notices a step sends: one builder per audience, pure functions of the complaint.

A complainant's letter names no address and carries none of the resident's story: the record activity
fills in the recipient (complainant, or representative with consent; nobody for an anonymous complaint),
the summary and the outcome wanted from the case record when it writes the outbox row. So the workflow's
history never repeats the resident's personal data with every letter, and the purge clears it in one place.
"""

from __future__ import annotations

from typing import Any

from domain.models import Adjustments, ComplaintState, Notification
from domain.policy import Policy
from domain.support import support_lines


def to_complainant(state: ComplaintState, policy: Policy, template: str, **context: Any) -> Notification:
    base = {"reference": state.reference, "stage": state.current.number, "policy": policy.name}
    return Notification(template=template, audience="complainant", recipient=None, context=base | context)


def staff_notice(state: ComplaintState, template: str, recipient: str | None, **context: Any) -> Notification:
    return Notification(
        template=template,
        audience="staff",
        recipient=recipient or "complaints-team",
        context={"reference": state.reference, "stage": state.stage} | context,
    )


def manager_alert(state: ComplaintState, what: str, due: Any, **context: Any) -> Notification:
    return Notification(
        template="overdue_alert",
        audience="manager",
        recipient="complaints-manager",
        context={"reference": state.reference, "stage": state.stage, "what": what, "due": due} | context,
    )


def complainant_recipient(
    *, anonymous: bool, complainant: dict[str, Any], representative: dict[str, Any] | None
) -> str | None:
    """Who a complainant's letter goes to: the representative when consent is on file, else the complainant
    (e-mail, else postal address, else phone); nobody for an anonymous complaint."""
    if anonymous:
        return None
    if representative is not None and representative.get("consent_recorded"):
        return representative.get("email") or representative.get("name")
    found = complainant.get("email") or complainant.get("address") or complainant.get("phone")
    return str(found) if found else None


def recipient_name(
    *, anonymous: bool, complainant: dict[str, Any] | None, representative: dict[str, Any] | None
) -> str | None:
    """The name a complainant's letter greets, read from the case record when the letter is delivered or
    shown (the representative acting with consent, else the complainant); None for an anonymous complaint
    or a case without a name."""
    if anonymous:
        return None
    person = representative if representative and representative.get("consent_recorded") else complainant
    name = str((person or {}).get("name") or "").strip()
    return name or None


def from_case_record(
    *, anonymous: bool, complainant: dict[str, Any] | None, representative: dict[str, Any] | None
) -> dict[str, Any]:
    """What a complainant's letter takes from the case record when it is delivered or shown, never from the
    workflow: the name it greets and the support asked for (with what the council will do)."""
    extra: dict[str, Any] = {}
    name = recipient_name(anonymous=anonymous, complainant=complainant, representative=representative)
    if name:
        extra["recipient_name"] = name
    raw = (complainant or {}).get("adjustments")
    support = support_lines(Adjustments.model_validate(raw) if raw else None)
    if support:
        extra["support"] = [{"asked": line.asked, "we_will": line.we_will} for line in support]
    return extra
