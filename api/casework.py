"""What staff do to complaints, whichever door they come through: the JSON API (api/routes/) and the staff
console's pages (web/staff/) call these same functions, so need-to-know, conflicts of interest, the action's
command and the audit trail are one code path.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
from temporalio.client import Client

from api.errors import ProblemError
from api.letter_preview import PreviewLetter, preview_letters
from api.permissions import allowed
from api.response_drafts import waiting_draft
from api.schemas import ComplaintCreate
from api.staff_intake import open_staff_complaint
from api.updates import run_action
from core.settings import Settings
from domain import commands as cmd
from domain.actions import ACTIONS
from domain.lifecycle import Refused
from domain.models import Actor, Role
from domain.policy import Policy
from notifications.delivery import DeliveryOptions
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
from store.queue_counts import due_in, due_in_whole_hours, queue_counts
from store.staff import StaffRepository, StaffUser


async def visible_complaint(pool: asyncpg.Pool, staff: StaffUser, reference: str) -> ComplaintRecord:
    """The complaint, or NotFound (also outside the service areas the staff member deals with:
    need-to-know); refused (403) to a staff member named in it or who declared a conflict of interest."""
    # One round trip: the case row and whether this staff member declared a conflict on it.
    record, conflicted = await ComplaintRepository(pool).get_for(reference=reference, staff_id=staff.id)
    if not staff.may_see_area(record.service_area):
        raise NotFound(reference)
    if staff.id in record.staff_complained_about:
        raise ProblemError(
            403,
            "Conflict of interest",
            "you are named in this complaint and cannot see or act on it",
            "conflict-of-interest",
        )
    if conflicted:
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
    await AuditRepository(pool).append_by(
        staff,
        "list",
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


async def count_queues_visible(
    pool: asyncpg.Pool, staff: StaffUser, due: ComplaintFilters, cap: int = 1000
) -> dict[str, int]:
    """The console's counted queues (store/queue_counts.py) as this staff member may see them: their service
    areas, less the complaints closed to them, as `visible_filters` narrows a list. `due` is the "due soon"
    queue's filters (a deadline range from now): its whole hours from the counters, the rest from the rows
    (counted up to `cap` + 1 each, as `count_visible`)."""
    counts = await queue_counts(pool, staff_id=staff.id, service_areas=staff.service_areas)
    assert due.deadline_from is not None and due.deadline_before is not None
    hours = due_in_whole_hours(due.deadline_from, due.deadline_before)
    if hours is None:
        counts["due-soon"] = await count_visible(pool, staff, due, cap)
        return counts
    whole = await due_in(pool, staff_id=staff.id, service_areas=staff.service_areas, hours=hours)
    before = await count_visible(pool, staff, due.model_copy(update={"deadline_before": hours[0]}), cap)
    after = (
        await count_visible(pool, staff, due.model_copy(update={"deadline_from": hours[1]}), cap)
        if hours[1] < due.deadline_before
        else 0
    )
    counts["due-soon"] = whole + before + after
    return counts


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
    command = await build_command(pool, staff, action, complaint, body, expected_seq)
    receipt = await run_action(action, command, complaint, temporal, update_id, pool)
    record = await ComplaintRepository(pool).get(reference=complaint.reference)
    await AuditRepository(pool).append_by(
        staff,
        action,
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


async def build_command(
    pool: asyncpg.Pool,
    staff: StaffUser,
    action: str,
    complaint: ComplaintRecord,
    body: dict[str, Any],
    expected_seq: int | None,
) -> cmd.Command:
    """The action's command from a request body, with what the service fills in itself."""
    command_type: type[cmd.Command] = ACTIONS[action].command
    actor = Actor(id=staff.id, role=staff.role, name=staff.name)
    fields = {**body, "actor": actor, "expected_seq": expected_seq}
    if command_type is cmd.Assign:
        fields["assignee_role"] = await assignable_role(pool, fields["assignee"], complaint)
    if command_type is cmd.ApproveResponse:
        # The manager approves the draft as it was recorded, never a body sent with the approval.
        draft = await waiting_draft(pool, complaint.reference)
        fields["draft"] = draft.detail.get("body") if draft else None
        fields["draft_seq"] = draft.seq if draft else None
    return command_type.model_validate(fields)


async def preview_action(
    *,
    pool: asyncpg.Pool,
    temporal: Client,
    settings: Settings,
    staff: StaffUser,
    action: str,
    complaint: ComplaintRecord,
    body: dict[str, Any],
) -> list[PreviewLetter]:
    """The letters to the resident this action would send now (api.letter_preview); nothing is done. A
    refusal by the action's rule is a ProblemError 409 with its reason, as the action itself would be."""
    command = await build_command(pool, staff, action, complaint, body, None)
    try:
        return await preview_letters(
            temporal=temporal,
            record=complaint,
            action=ACTIONS[action],
            command=command,
            templates_dir=settings.notification_templates_dir,
            resident_pages=DeliveryOptions.from_settings(settings).resident_pages or "",
        )
    except Refused as refused:
        raise ProblemError(
            409, "Not possible now", refused.refusal.message, "transition-refused"
        ) from refused


async def assignable_role(pool: asyncpg.Pool, assignee: str, complaint: ComplaintRecord) -> Role:
    """The role of the staff member a complaint is assigned to; 422 unless they are known staff (in the
    staff directory: demo users, or anyone who has signed in) whose role may answer the complaint at its
    stage and whose service areas (as their sign-in gave them) take in the complaint's. Any other text (an
    outside e-mail address...) would receive the staff notices; so would someone who declared a conflict of
    interest on it (one it is about is refused by the workflow's rule, 409)."""
    stage = complaint.stage
    role = (await StaffRepository(pool).roles_of(user_ids=[assignee])).get(assignee)
    if role is None:
        raise ProblemError(422, "Invalid request", f"assignee: {assignee!r} is not a known staff member")
    if await ConflictRepository(pool).declared(reference=complaint.reference, staff_id=assignee):
        raise ProblemError(
            422,
            "Invalid request",
            f"assignee: {assignee!r} may not deal with this complaint (they declared a conflict of interest"
            " on it): assign someone else",
        )
    if not allowed("respond", role, stage):
        raise ProblemError(
            422,
            "Invalid request",
            f"assignee: a {role.value} cannot answer a complaint at stage {stage}: assign someone who can",
        )
    areas = await StaffRepository(pool).areas_of(user_id=assignee)
    if areas is not None and complaint.service_area not in areas:
        # Need-to-know: they could not open it (404), nor find it among their cases.
        raise ProblemError(
            422,
            "Invalid request",
            f"assignee: {assignee!r} does not deal with {complaint.service_area} (their areas:"
            f" {', '.join(areas) or 'none'}): assign someone who does",
        )
    return role


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
    workflow, the audit row; its reference. One path with the triage queue's (api/staff_intake.py)."""
    return await open_staff_complaint(
        pool=pool,
        temporal=temporal,
        task_queue=settings.task_queue,
        policies=policies,
        staff=staff,
        body=body,
        request_id=request_id,
        idempotency_key=idempotency_key,
        key_ttl=timedelta(hours=settings.idempotency_key_ttl_hours),
    )
