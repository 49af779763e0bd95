"""What staff do to complaints, whichever door they come through: the JSON API (api/routes/) and the staff
console's pages (web/staff/) call these same functions, so need-to-know, conflicts of interest, the action's
command and the audit trail are one code path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from temporalio.client import Client

from api.errors import ProblemError
from api.intake import open_case
from api.permissions import allowed
from api.schemas import ComplaintCreate
from api.updates import run_action
from core.settings import Settings
from domain import commands as cmd
from domain.actions import ACTIONS
from domain.intake_rules import check_representative, check_time_limit
from domain.models import Actor, Intake, Role
from domain.policy import Policy
from store.access import ConflictRepository
from store.audit import AuditRepository, event_key
from store.complaints import (
    ComplaintFilters,
    ComplaintRecord,
    ComplaintRepository,
    NotFound,
    count_complaints,
    search_complaints,
)
from store.staff import StaffRepository, StaffUser


async def visible_complaint(pool: asyncpg.Pool, staff: StaffUser, reference: str) -> ComplaintRecord:
    """The complaint, or NotFound (also outside the service areas the staff member deals with:
    need-to-know); refused (403) to a staff member named in it or who declared a conflict of interest."""
    record = await ComplaintRepository(pool).get(reference=reference)
    if not staff.may_see_area(record.service_area):
        raise NotFound(reference)
    if staff.id in record.staff_complained_about:
        raise ProblemError(
            403,
            "Conflict of interest",
            "you are named in this complaint and cannot see or act on it",
            "conflict-of-interest",
        )
    if await ConflictRepository(pool).declared(reference=reference, staff_id=staff.id):
        raise ProblemError(
            403,
            "Conflict of interest",
            "you declared a conflict of interest on this complaint and cannot see or act on it",
            "conflict-of-interest",
        )
    return record


def visible_filters(filters: ComplaintFilters, staff: StaffUser) -> ComplaintFilters:
    """The filters narrowed to what this staff member may see: their service areas, none they are named in
    or declared a conflict on."""
    return filters.model_copy(
        update={
            "exclude_naming": staff.id,
            "exclude_conflicted": staff.id,
            "service_areas": staff.service_areas,
        }
    )


async def audit_list(
    pool: asyncpg.Pool, staff: StaffUser, filters: ComplaintFilters, request_id: str, **shown: Any
) -> None:
    """Every list request goes to the audit log with its filters; a text search only as given or not (it
    may be a name)."""
    kept = filters.model_dump(
        mode="json", exclude_none=True, exclude={"text", "exclude_naming", "exclude_conflicted"}
    )
    await AuditRepository(pool).append(
        actor_id=staff.id,
        actor_role=staff.role.value,
        action="list",
        reference=None,
        request_id=request_id,
        after={"filters": kept, "text_search": bool(filters.text), **shown},
    )


async def list_visible(
    pool: asyncpg.Pool,
    staff: StaffUser,
    filters: ComplaintFilters,
    *,
    sort: str,
    after: tuple[Any, str] | None,
    limit: int,
    request_id: str,
) -> list[ComplaintRecord]:
    """A page of the complaints this staff member may see, audited: up to `limit` and one more, which says
    that a next page exists."""
    visible = visible_filters(filters, staff)
    await audit_list(pool, staff, visible, request_id, sort=sort, page=after is not None, limit=limit)
    return await search_complaints(pool, filters=visible, sort=sort, after=after, limit=limit + 1)


async def count_visible(
    pool: asyncpg.Pool, staff: StaffUser, filters: ComplaintFilters, cap: int = 1000
) -> int:
    """How many of the complaints this staff member may see match (up to cap + 1)."""
    return await count_complaints(pool, filters=visible_filters(filters, staff), cap=cap)


async def perform_action(
    *,
    pool: asyncpg.Pool,
    temporal: Client,
    staff: StaffUser,
    action: str,
    complaint: ComplaintRecord,
    body: dict[str, Any],
    request_body: dict[str, Any],
    expected_seq: int | None,
    request_id: str,
    update_id: str | None = None,
) -> ComplaintRecord:
    """Run one action of the action table as this staff member: the command built from the body, the
    workflow's Update, the audit row; the complaint as the read model holds it afterwards. Refusals are
    ProblemErrors (409 not possible now, 412 stale, 422 unrecordable)."""
    command_type: type[cmd.Command] = ACTIONS[action].command
    actor = Actor(id=staff.id, role=staff.role, name=staff.name)
    fields = {**body, "actor": actor, "expected_seq": expected_seq}
    if command_type is cmd.Assign:
        fields["assignee_role"] = await assignable_role(pool, fields["assignee"], complaint.stage)
    command = command_type.model_validate(fields)
    receipt = await run_action(action, command, complaint, temporal, update_id, pool)
    record = await ComplaintRepository(pool).get(reference=complaint.reference)
    await AuditRepository(pool).append(
        actor_id=staff.id,
        actor_role=staff.role.value,
        action=action,
        reference=complaint.reference,
        request_id=request_id,
        before={"status": complaint.status, "stage": complaint.stage, "seq": complaint.last_seq},
        after={
            "status": record.status,
            "stage": record.stage,
            "seq": record.last_seq,
            "request": request_body,
        },
        once_key=event_key(complaint.reference, action, receipt.seq),
    )
    return record


async def assignable_role(pool: asyncpg.Pool, assignee: str, stage: int) -> Role:
    """The role of the staff member a complaint is assigned to; 422 unless they are known staff (in the
    staff directory: demo users, or anyone who has signed in) whose role may answer the complaint at its
    stage. Any other text (an outside e-mail address...) would receive the staff notices."""
    role = (await StaffRepository(pool).roles_of(user_ids=[assignee])).get(assignee)
    if role is None:
        raise ProblemError(422, "Invalid request", f"assignee: {assignee!r} is not a known staff member")
    if not allowed("respond", role, stage):
        raise ProblemError(
            422,
            "Invalid request",
            f"assignee: a {role.value} cannot answer a complaint at stage {stage}: assign someone who can",
        )
    return role


# A receipt time a little ahead of the server's clock is a clock skew, not a complaint from the future.
CLOCK_SKEW = timedelta(minutes=5)


def _check_intake(body: ComplaintCreate, policies: dict[str, Policy]) -> None:
    policy = policies.get(body.policy_id)
    if policy is None:
        raise ProblemError(422, "Invalid request", f"policy_id: unknown policy {body.policy_id!r}")
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


async def _about_investigators(pool: asyncpg.Pool, body: ComplaintCreate) -> bool:
    """A complaint about an investigating officer goes to someone more senior (a manager)."""
    if not body.staff_complained_about:
        return False
    roles = await StaffRepository(pool).roles_of(user_ids=body.staff_complained_about)
    return any(role in (Role.INVESTIGATOR, Role.REVIEWER) for role in roles.values())


async def log_complaint(
    *,
    pool: asyncpg.Pool,
    temporal: Client,
    policies: dict[str, Policy],
    settings: Settings,
    staff: StaffUser,
    body: ComplaintCreate,
    request_id: str,
    idempotency_key: str | None,
) -> str:
    """Log a complaint received by an officer (the API's POST /api/complaints and the console's intake
    form): the council's rules checked (ProblemError 422 with the reason), the case opened with its
    workflow, the audit row; its reference."""
    _check_intake(body, policies)
    reference = await open_case(
        pool=pool,
        temporal=temporal,
        task_queue=settings.task_queue,
        policy=policies[body.policy_id],
        intake=Intake.model_validate(
            {**body.model_dump(), "handled_by_senior": await _about_investigators(pool, body)}
        ),
        actor=Actor(id=staff.id, role=staff.role, name=staff.name),
        idempotency_key=idempotency_key,
        key_ttl=timedelta(hours=settings.idempotency_key_ttl_hours),
    )
    await AuditRepository(pool).append(
        actor_id=staff.id,
        actor_role=staff.role.value,
        action="create",
        reference=reference,
        request_id=request_id,
        after=body.model_dump(mode="json"),
        once_key=f"create:{reference}",  # a retry that opened the same complaint is recorded once
    )
    return reference
