"""What the confirmation page ("Complaint received") says to whoever made the complaint: the dates and why
(`next_steps`), and who gets what: the copy of the complaint, the link to track it, the letters, and for a
representative whose consent must come in writing, what consent is needed and who is asked for it.

A submission held for staff under a contact restriction (api/resident/withheld.py) has no case row: its page
is worked out from the answers and the policy's plan for a complaint received now, so it reads exactly as
any complaint's page does (the form tells nobody who is restricted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from api.resident.make.next_steps import NextSteps, next_steps
from api.resident.service import PublicComplaintCreate
from domain.deadlines import plan_stage
from domain.intake_rules import DECLARED
from domain.policy import Policy
from store.complaints import ComplaintRecord


@dataclass(frozen=True)
class Confirmation:
    reference: str
    steps: NextSteps
    for_someone_else: bool
    complainant_name: str
    consent_pending: bool  # the council needs the complainant's consent in writing first
    copy_e_mailed: bool  # a copy of the complaint went to whoever made it
    complainant_e_mailed: bool  # the complainant has an e-mail address (the link, and any consent request)
    e_mail_on: bool  # the service sends e-mail at all


def confirmation(
    policy: Policy,
    reference: str,
    body: PublicComplaintCreate,
    record: ComplaintRecord | None,
    *,
    e_mail_on: bool,
) -> Confirmation:
    if record is not None:
        acknowledge_by, respond_by = record.acknowledge_by, record.respond_by
    else:
        planned = plan_stage(policy, 1, datetime.now(UTC))
        acknowledge_by, respond_by = planned.acknowledge_by, planned.respond_by
    representative = body.representative
    maker_email = representative.email if representative else body.email
    return Confirmation(
        reference=reference,
        steps=next_steps(policy, acknowledge_by, respond_by),
        for_someone_else=representative is not None,
        complainant_name=body.name,
        consent_pending=representative is not None and not policy.complainants.consent_accepted(DECLARED),
        copy_e_mailed=e_mail_on and bool(maker_email),
        complainant_e_mailed=e_mail_on and bool(body.email),
        e_mail_on=e_mail_on,
    )


def confirmation_on_file(policy: Policy, record: ComplaintRecord, *, e_mail_on: bool) -> Confirmation:
    """The confirmation seen again later (`GET /complaint/{reference}/created`): the same dates and why, from
    the case record (the dates fixed when the complaint was opened, or moved since), and who gets what as the
    case now stands (a representative's written consent may have arrived since)."""
    complainant = record.complainant
    representative = record.representative
    maker_email = (representative or {}).get("email") if representative else complainant.get("email")
    return Confirmation(
        reference=record.reference,
        steps=next_steps(policy, record.acknowledge_by, record.respond_by),
        for_someone_else=representative is not None,
        complainant_name=str(complainant.get("name") or ""),
        consent_pending=representative is not None and not representative.get("consent_recorded"),
        copy_e_mailed=e_mail_on and bool(maker_email),
        complainant_e_mailed=e_mail_on and bool(complainant.get("email")),
        e_mail_on=e_mail_on,
    )
