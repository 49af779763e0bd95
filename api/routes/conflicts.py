"""Need-to-know: a staff member declares a conflict of interest on a complaint. From then on the complaint
is closed to them (403 on reads and actions, left out of their lists), and a manager is told."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Complaint, CurrentStaff, Pool, RequestId, require
from api.errors import PROBLEM_RESPONSES
from store.access import ConflictRepository
from store.audit import AuditRepository
from store.complaints import ComplaintRecord, Executor

router = APIRouter(prefix="/api/complaints", tags=["need-to-know"])

CONFLICT_TEMPLATE = "conflict_declared"


class ConflictDeclared(BaseModel):
    reference: str
    staff_id: str
    manager_told: bool


@router.post("/{reference}/conflict", status_code=201, responses=PROBLEM_RESPONSES)
async def declare_conflict(
    complaint: Complaint, staff: CurrentStaff, pool: Pool, request_id: RequestId
) -> ConflictDeclared:
    """Declare a conflict of interest on this complaint: you are locked out of it, and a manager is told
    (to reassign it if it was yours)."""
    require("declare_conflict", staff)
    async with pool.acquire() as connection, connection.transaction():
        await ConflictRepository(connection).declare(reference=complaint.reference, staff_id=staff.id)
        await tell_manager(connection, complaint, staff.id)
        await AuditRepository(connection).append_by(
            staff,
            "declare_conflict",
            reference=complaint.reference,
            request_id=request_id,
            after={"assigned_to_them": complaint.assigned_to == staff.id},
        )
    return ConflictDeclared(reference=complaint.reference, staff_id=staff.id, manager_told=True)


async def tell_manager(db: Executor, complaint: ComplaintRecord, staff_id: str) -> None:
    """An outbox row to the complaints manager (the outbox dispatcher sends it like any notice)."""
    await db.execute(
        "INSERT INTO notifications (id, reference, workflow_id, seq, template, audience, recipient, context)"
        " VALUES ($1, $2, $3, $4, $5, 'manager', 'complaints-manager', $6) ON CONFLICT (id) DO NOTHING",
        f"conflict:{complaint.reference}:{staff_id}",
        complaint.reference,
        complaint.workflow_id,
        complaint.last_seq,
        CONFLICT_TEMPLATE,
        {
            "reference": complaint.reference,
            "stage": complaint.stage,
            "declared_by": staff_id,
            "was_assigned": complaint.assigned_to == staff_id,
            "declared_on": datetime.now(UTC).date().isoformat(),
        },
    )
