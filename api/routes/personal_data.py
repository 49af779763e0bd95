"""Subject access: everything held about the complainant for one complaint, for the roles that answer
subject access requests (managers and admins: `subject_access` in api/permissions.py)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Complaint, CurrentStaff, Pool, RequestId, require
from api.errors import PROBLEM_RESPONSES
from store.audit import AuditRepository
from store.personal_data import PersonalDataHeld, personal_data_held

router = APIRouter(prefix="/api/complaints", tags=["personal data"])


@router.get("/{reference}/personal-data", responses=PROBLEM_RESPONSES)
async def get_personal_data(
    complaint: Complaint, staff: CurrentStaff, pool: Pool, request_id: RequestId
) -> PersonalDataHeld:
    """Everything held about the complainant on this complaint (JSON), to answer a subject access request:
    the case record, the workflow's state (notes, information, findings), the event trail, every message and
    its address, the resident access codes and who read or changed the case. The request is audited."""
    require("subject_access", staff)
    held = await personal_data_held(pool, complaint)
    await AuditRepository(pool).append(
        actor_id=staff.id,
        actor_role=staff.role.value,
        action="subject_access",
        reference=complaint.reference,
        request_id=request_id,
    )
    return held
