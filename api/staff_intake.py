"""Opening a complaint on a staff member's word: the intake's checks, the workflow started, the audit row.

One place for both ways staff log a complaint (POST /api/complaints, and opening one from an e-mail in
triage), so a rule of intake (the council's own limits, a complaint about an investigator going to someone
senior) cannot be applied on one path and forgotten on the other.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.client import Client

from api.errors import ProblemError, known_policy
from api.intake import KEY_TTL, open_case
from api.schemas import ComplaintCreate
from domain.intake_rules import check_representative, check_time_limit
from domain.models import Actor, Intake, Role
from domain.policy import Policy
from store.audit import AuditRepository
from store.staff import StaffRepository, StaffUser

# A receipt time a little ahead of the server's clock is a clock skew, not a complaint from the future.
CLOCK_SKEW = timedelta(minutes=5)


def check_intake(body: ComplaintCreate, policies: dict[str, Policy]) -> None:
    """The intake's rules, as a clear 422 for the first one broken."""
    policy = known_policy(policies, body.policy_id)
    area_problem = policy.area_problem(body.service_area)
    if area_problem:
        raise ProblemError(422, "Invalid request", area_problem)
    if body.received_at > datetime.now(UTC) + CLOCK_SKEW:
        raise ProblemError(422, "Invalid request", "received_at: cannot be in the future")
    if body.anonymous and not policy.complainants.anonymous_allowed:
        raise ProblemError(
            422, "Invalid request", f"anonymous: {policy.name} does not accept anonymous complaints"
        )
    person = body.complainant
    if not body.anonymous and not (person.name and (person.email or person.address or person.phone)):
        raise ProblemError(
            422,
            "Invalid request",
            "complainant: a name and one way to reply (email, address or phone) are needed",
        )
    # Consent may follow: the representative is named, letters go to the complainant until an officer records
    # the consent (`record-representative-consent`).
    representative_problem = check_representative(policy, body.representative, consent_may_follow=True)
    if representative_problem:
        raise ProblemError(422, "Invalid request", representative_problem)
    time_problem = check_time_limit(policy, body.received_at, body.matter_arose_on, body.out_of_time_reason)
    if time_problem:
        raise ProblemError(422, "Invalid request", time_problem)


async def about_investigators(pool: asyncpg.Pool, body: ComplaintCreate) -> bool:
    """A complaint about an investigating officer goes to someone more senior (a manager)."""
    if not body.staff_complained_about:
        return False
    roles = await StaffRepository(pool).roles_of(user_ids=body.staff_complained_about)
    return any(role in (Role.INVESTIGATOR, Role.REVIEWER) for role in roles.values())


async def open_staff_complaint(
    *,
    pool: asyncpg.Pool,
    temporal: Client,
    task_queue: str,
    policies: dict[str, Policy],
    staff: StaffUser,
    body: ComplaintCreate,
    request_id: str,
    idempotency_key: str | None,
    key_owner: str | None = None,
    key_ttl: timedelta = KEY_TTL,
) -> str:
    """Check the intake, start the complaint's workflow and audit its creation; returns the reference."""
    check_intake(body, policies)
    reference = await open_case(
        pool=pool,
        temporal=temporal,
        task_queue=task_queue,
        policy=policies[body.policy_id],
        intake=Intake.model_validate(
            {**body.model_dump(), "handled_by_senior": await about_investigators(pool, body)}
        ),
        actor=Actor(id=staff.id, role=staff.role, name=staff.name),
        idempotency_key=idempotency_key,
        key_owner=key_owner,
        key_ttl=key_ttl,
    )
    await AuditRepository(pool).append_by(
        staff,
        "create",
        reference=reference,
        request_id=request_id,
        after=body.model_dump(mode="json"),
        once_key=f"create:{reference}",  # a retry that opened the same complaint is recorded once
    )
    return reference
