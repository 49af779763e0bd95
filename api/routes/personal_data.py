"""Subject access: everything held about the complainant for one complaint, for the roles that answer
subject access requests (managers and admins: `subject_access` in api/permissions.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.casework import visible_complaint
from api.deps import CurrentStaff, Pool, RequestId, Temporal, require
from api.errors import PROBLEM_RESPONSES, ProblemError
from api.resident.withheld import held_record
from domain.models import ComplaintState
from store.audit import AuditRepository
from store.complaints import NotFound
from store.held_submissions import HeldSubmissionRepository
from store.personal_data import PersonalDataHeld, held_personal_data, personal_data_held

router = APIRouter(prefix="/api/complaints", tags=["personal data"])


@router.get("/{reference}/personal-data", responses=PROBLEM_RESPONSES)
async def get_personal_data(
    reference: str, staff: CurrentStaff, pool: Pool, temporal: Temporal, request_id: RequestId
) -> PersonalDataHeld:
    """Everything held about the complainant on this complaint (JSON), to answer a subject access request:
    the case record, the workflow's state (dates, status, the intake), the event trail (notes, information,
    findings), every message and
    its address, the resident access codes and who read or changed the case. The request is audited. A
    reference a submission held in triage was answered with (a contact restriction, issue 29) has no case
    row: what is held about its person is found under it as well (`held_personal_data`). The role is checked
    first, so a role without subject access learns nothing of the reference (held, a complaint, or none)."""
    require("subject_access", staff)
    try:
        complaint = await visible_complaint(pool, staff, reference)
    except NotFound:
        item = await HeldSubmissionRepository(pool).get(reference)
        if item is None or not staff.may_see_area(item.service_area):
            raise
        held = await held_personal_data(pool, item, held_record(item).status)
        await AuditRepository(pool).append_by(
            staff, "subject_access", reference=reference, request_id=request_id
        )
        return held
    held = await personal_data_held(pool, complaint)
    held.workflow_state = await _workflow_state(temporal, complaint.workflow_id)
    await AuditRepository(pool).append_by(
        staff, "subject_access", reference=complaint.reference, request_id=request_id
    )
    return held


async def _workflow_state(temporal: Client, workflow: str) -> dict[str, Any] | None:
    """The state the complaint's workflow holds (decrypted by the client's codec); None once Temporal no
    longer has the workflow (destroyed by the retention purge, or past the namespace's retention)."""
    try:
        state: ComplaintState = await temporal.get_workflow_handle(workflow).query(
            "state", result_type=ComplaintState
        )
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return None
        raise ProblemError(503, "Service unavailable", "Temporal did not answer: try again") from error
    except WorkflowQueryFailedError as error:
        raise ProblemError(503, "Service unavailable", "the complaint's workflow could not answer") from error
    return state.model_dump(mode="json")
