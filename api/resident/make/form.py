"""The complaint's answers, shared by the question pages, "Check your answers" and sending: the council the
answers are for, the representative part, the support part.
Pure functions of the answers (a dict of the form's fields) and the councils' policies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.errors import ProblemError
from api.resident import service
from api.resident.service import PublicComplaintCreate
from core.services import Services
from domain.policy import Policy

# The representative part of the form (someone making the complaint for the complainant).
REPRESENTATIVE_FIELDS = {
    "name": "representative_name",
    "email": "representative_email",
    "phone": "representative_phone",
    "kind": "representative_kind",
    "relationship": "representative_relationship",
    "consent_declared": "representative_consent",
}
# Plain words for the policies' representative kinds (a kind not listed here is shown as it is written).
REPRESENTATIVE_KIND_LABELS = {
    "family": "A family member",
    "friend": "A friend",
    "advocate": "An advocate (for example, from an advocacy service)",
    "carer": "Their carer",
    "solicitor": "A solicitor or legal adviser",
    "councillor": "A councillor",
    "mp": "Their MP (Member of Parliament)",
    "other": "Someone else",
}


def form_policy(services: Services, form: dict[str, Any]) -> Policy | None:
    """The council the form is for: the one chosen (or asked for, `?policy_id=`), or the only one."""
    if form.get("policy_id") in services.policies:
        return services.policies[form["policy_id"]]
    only = list(services.policies.values())
    return only[0] if len(only) == 1 else None


def representative_choices(services: Services, policy: Policy | None) -> list[tuple[str, str]]:
    """The kinds of representative the council accepts, in plain words (none: the form has no such part).
    Before a council is chosen, every kind some council accepts: the chosen council's rules decide."""
    policies = [policy] if policy else list(services.policies.values())
    kinds: list[str] = []
    for each in policies:
        if each.complainants.representatives_allowed:
            kinds += [kind for kind in each.complainants.representative_kinds if kind not in kinds]
    plain = REPRESENTATIVE_KIND_LABELS
    return [(kind, plain.get(kind, kind.replace("_", " ").capitalize())) for kind in kinds]


# Large print and easy read are asked once, as the letters' format (FORMAT_LABELS): two questions for one need
# contradicted each other. The API still takes them as kinds.
ADJUSTMENT_LABELS = [
    ("bsl", "A British Sign Language interpreter"),
    ("other_language", "An interpreter or letters in another language"),
    ("advocate", "An advocate or someone to support me"),
    ("other", "Something else"),
]
FORMAT_LABELS = [
    ("standard", "Standard"),
    ("large_print", "Large print"),
    ("easy_read", "Easy read"),
    ("braille", "Braille"),
    ("audio", "Audio"),
]


def adjustments_from(form: dict[str, Any]) -> dict[str, Any] | None:
    """The optional adjustments part of the complaint form (None when nothing was asked for)."""
    adjustments = {
        "kinds": form.get("adjustment_kinds") or [],
        "details": form.get("adjustment_details", ""),
        "preferred_language": form.get("preferred_language") or None,
        "preferred_format": form.get("preferred_format") or "standard",
    }
    asked = adjustments["kinds"] or adjustments["details"] or adjustments["preferred_language"]
    return adjustments if asked or adjustments["preferred_format"] != "standard" else None


def representative_from(form: dict[str, Any]) -> dict[str, Any] | None:
    """The representative part of the complaint form (None when the complaint is not made for someone)."""
    if form.get("on_behalf") != "yes":
        return None
    return {
        "name": form.get("representative_name", ""),
        "email": form.get("representative_email") or None,
        "phone": form.get("representative_phone") or None,
        "kind": form.get("representative_kind", ""),
        "relationship": form.get("representative_relationship", ""),
        "consent_declared": form.get("representative_consent") == "yes",
    }


def representative_not_accepted(policy: Policy | None, form: dict[str, Any]) -> dict[str, str]:
    """The council's refusal of a representative, from the answers so far (not the whole complaint): so the
    page that chose the council, or the kind of representative, refuses at once, with the reason."""
    if policy is None or form.get("on_behalf") != "yes":
        return {}
    if not policy.complainants.representatives_allowed:
        return {"policy_id": _NO_REPRESENTATIVES.format(council=policy.name)}
    kind = form.get("representative_kind")
    if kind and kind not in policy.complainants.representative_kinds:
        return {"representative_kind": _NOT_THIS_KIND.format(council=policy.name)}
    return {}


_NO_REPRESENTATIVES = (
    "{council} does not accept complaints made for someone else: the person the complaint is for must make it"
)
_NOT_THIS_KIND = "Select one of the kinds of representative {council} accepts"


def representative_refusal(policy: Policy, body: PublicComplaintCreate) -> dict[str, str]:
    """The council's refusal of the representative (the public API's 422), as the form's error."""
    try:
        service.representative_for(policy, body.representative, datetime.now(UTC))
    except ProblemError as error:
        if error.problem.status != 422:
            raise
        if (error.problem.detail or "").startswith("representative.kind"):
            return {"representative_kind": _NOT_THIS_KIND.format(council=policy.name)}
        # The form for this council has no such part: the choice of council is what to change.
        return {"policy_id": _NO_REPRESENTATIVES.format(council=policy.name)}
    return {}


# How the home is held (the tenure question), in the resident's words.
TENURE_LABELS = [
    ("", "I would rather not say"),
    ("low_cost_rental", "I rent it from the council or housing association"),
    ("low_cost_home_ownership", "Shared ownership or another low-cost home ownership scheme"),
    ("leaseholder", "I am a leaseholder"),
    ("other", "Something else"),
    ("not_a_tenant", "I am not a tenant"),
]
