"""The e-mails a complaint made on the resident pages (or the public API) sends at once, through the
notification outbox (issue 30):

- `complaint_copy`, to whoever made it (the complainant, or the representative who made it for them): a copy
  of the complaint, its reference and what happens next with the dates; for a representative whose consent
  must come in writing, what consent is needed and that the council writes to the complainant until then.
- `consent_request`, to the complainant, where the council needs their consent in writing before the
  representative can act: who made the complaint, the reference, and how to give (or refuse) consent. With
  no e-mail address it waits for the post (the outbox marks it skipped, "send by post", for staff).

The access-link e-mail to the complainant says who made the complaint for them (`made_by`), see
`api.resident.service._send_link`. Each message is queued once per complaint (its id is fixed).
"""

from __future__ import annotations

from typing import Any

from api.resident.make.next_steps import next_steps
from core.services import Services
from domain.policy import Policy
from store.complaints import ComplaintRecord
from store.resident_access import ResidentAccessRepository


def _label(policy: Policy, code: str) -> str:
    return next((area.label for area in policy.service_areas if area.code == code), code)


def copy_context(policy: Policy, record: ComplaintRecord) -> dict[str, Any]:
    steps = next_steps(policy, record.acknowledge_by, record.respond_by)
    representative = record.representative or {}
    return {
        "reference": record.reference,
        "stage": record.stage,
        "policy": policy.name,
        "summary": record.summary,
        "desired_outcome": record.desired_outcome,
        "service_area": _label(policy, record.service_area),
        "acknowledge_by": steps.acknowledge_by.isoformat() if steps.acknowledge_by else None,
        "respond_by": steps.respond_by.isoformat() if steps.respond_by else None,
        "acknowledge_within": steps.acknowledge_within,
        "respond_within": steps.respond_within,
        "why": steps.why,
        "early_resolution": steps.early_resolution,
        "for_someone_else": bool(representative),
        "complainant_name": str(record.complainant.get("name") or ""),
        "representative_name": str(representative.get("name") or ""),
        "consent_pending": bool(representative) and not representative.get("consent_recorded"),
        "complainant_has_email": bool(record.complainant.get("email")),
    }


async def queue(services: Services, record: ComplaintRecord, policy: Policy, *, held: bool = False) -> None:
    """Queue the copy to the maker and, where written consent is to come, the request to the complainant.
    `held`: `record` is what a submission held in triage shows (no case row yet): the same messages."""
    if services.settings.notification_channel == "none" or record.anonymous:
        return
    repository = ResidentAccessRepository(services.pool)
    context = copy_context(policy, record)
    representative = record.representative or {}
    maker = "representative" if representative else "complainant"
    address = (representative if representative else record.complainant).get("email")
    if address:
        await repository.queue_to_resident(
            notification_id=f"made:{record.reference}:copy",
            reference=record.reference,
            workflow_id=record.workflow_id,
            template="complaint_copy",
            recipient=str(address),
            context=context | {"addressed_to": maker},
            held_policy_id=policy.id if held else None,
        )
    if context["consent_pending"]:
        await repository.queue_to_resident(
            notification_id=f"made:{record.reference}:consent",
            reference=record.reference,
            workflow_id=record.workflow_id,
            template="consent_request",
            recipient=record.complainant.get("email") or None,
            context=context | {"addressed_to": "complainant"},
            held_policy_id=policy.id if held else None,
        )
