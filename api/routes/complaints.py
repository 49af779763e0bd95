"""Complaints: log one, read one, list them, and read a complaint's audit trail."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.access_codes import ACTION as ISSUE_ACCESS_CODE
from api.access_codes import AccessCodeIssued, issue_new_code
from api.casework import list_visible, log_complaint
from api.deps import (
    Complaint,
    CurrentStaff,
    Policies,
    Pool,
    RequestId,
    ServicesDep,
    SettingsDep,
    Temporal,
    require,
)
from api.errors import PROBLEM_RESPONSES, ProblemError
from api.idempotency import run_once
from api.schemas import ComplaintCreate, ComplaintList, ComplaintRead, etag_of, full_read, read_of, summary_of
from domain.inputs import EARLIEST, LATEST
from domain.models import Status
from store.audit import AuditEntry, AuditRepository
from store.complaints import ComplaintFilters, ComplaintRepository
from store.resident_access import ResidentAccessRepository

router = APIRouter(prefix="/api/complaints", tags=["complaints"])


@router.post("", status_code=201, response_model=ComplaintRead, responses=PROBLEM_RESPONSES)
async def create_complaint(
    body: ComplaintCreate,
    staff: CurrentStaff,
    pool: Pool,
    temporal: Temporal,
    policies: Policies,
    settings: SettingsDep,
    request_id: RequestId,
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="Makes a retried request log the complaint once"),
    ] = None,
) -> JSONResponse:
    """Log a complaint: store the case and start its workflow `complaint-<reference>`."""
    require("create", staff)

    async def operation() -> tuple[int, BaseModel, dict[str, str]]:
        reference = await log_complaint(
            pool=pool,
            temporal=temporal,
            policies=policies,
            settings=settings,
            staff=staff,
            body=body,
            request_id=request_id,
            idempotency_key=idempotency_key,
        )
        record = await ComplaintRepository(pool).get(reference=reference)
        headers = {"Location": f"/api/complaints/{reference}", "ETag": etag_of(record)}
        return 201, read_of(record, [], []), headers

    return await run_once(
        pool=pool,
        staff=staff,
        key=idempotency_key,
        request=request,
        body=body.model_dump(mode="json"),
        operation=operation,
    )


def _encode_cursor(value: Any, reference: str) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, date | datetime) else value, reference])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    try:
        value, reference = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        parsed: Any = datetime.fromisoformat(value) if "received_at" in sort else date.fromisoformat(value)
        if isinstance(parsed, datetime):
            _within_service_years("cursor", parsed)  # a receipt's moment (a date cursor may be 9999-12-31)
        return parsed, str(reference)
    except (ValueError, TypeError, UnicodeDecodeError, ProblemError) as error:
        raise ProblemError(422, "Invalid request", "cursor: not a cursor this API issued") from error


def _within_service_years(name: str, moment: datetime | None) -> None:
    """A moment the service's dates can hold (domain/inputs.py); one at the calendar's edge with an offset
    (year 1 at +14:00 is year 0 in UTC) cannot even be sent to PostgreSQL."""
    if moment is not None and not EARLIEST.year <= moment.year <= LATEST.year:
        raise ProblemError(
            422, "Invalid request", f"{name}: must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}"
        )


@router.get("", responses=PROBLEM_RESPONSES)
async def list_complaints(
    staff: CurrentStaff,
    pool: Pool,
    policy: str | None = None,
    stage: Annotated[int | None, Query(ge=1, le=2)] = None,
    status: Status | None = None,
    service_area: str | None = None,
    assigned_to: str | None = None,
    overdue: bool | None = None,
    due_before: date | None = None,
    due_after: date | None = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Reference, name or summary contains")] = None,
    sort: Annotated[str, Query(pattern="^-?(received_at|respond_by)$")] = "-received_at",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    *,
    request_id: RequestId,
) -> ComplaintList:
    """Complaints matching the filters, newest first by default, a page at a time; only those in the
    service areas the caller deals with, none the caller is named in or declared a conflict on. Every list
    request is recorded in the audit log with its filters (a text search only as given or not: it may be a
    name)."""
    require("list", staff)
    _within_service_years("received_from", received_from)
    _within_service_years("received_to", received_to)
    filters = ComplaintFilters(
        policy_id=policy,
        stage=stage,
        status=status.value if status else None,
        service_area=service_area,
        assigned_to=assigned_to,
        overdue=overdue,
        due_before=due_before,
        due_after=due_after,
        received_from=received_from,
        received_to=received_to,
        text=q,
    )
    after = _decode_cursor(cursor, sort) if cursor else None
    records = await list_visible(
        pool, staff, filters, sort=sort, after=after, limit=limit, request_id=request_id
    )
    page, more = records[:limit], len(records) > limit
    next_cursor = None
    if more and page:
        last = page[-1]
        key = last.received_at if "received_at" in sort else (last.respond_by or date(9999, 12, 31))
        next_cursor = _encode_cursor(key, last.reference)
    return ComplaintList(items=[summary_of(record) for record in page], next_cursor=next_cursor)


@router.get("/{reference}", responses=PROBLEM_RESPONSES)
async def get_complaint(
    complaint: Complaint, staff: CurrentStaff, pool: Pool, request_id: RequestId, response: Response
) -> ComplaintRead:
    """One complaint with its deadlines, history, letters sent and ledger. The read is recorded."""
    require("read", staff)
    repository = ComplaintRepository(pool)
    await AuditRepository(pool).append_by(staff, "read", reference=complaint.reference, request_id=request_id)
    response.headers["ETag"] = etag_of(complaint)
    return await full_read(repository, complaint)


@router.get("/{reference}/audit", responses=PROBLEM_RESPONSES)
async def get_audit(complaint: Complaint, staff: CurrentStaff, pool: Pool) -> list[AuditEntry]:
    """Who did or read what on this complaint (auditors, managers and admins)."""
    require("audit", staff)
    return await AuditRepository(pool).for_complaint(reference=complaint.reference)


class AccessRevoked(BaseModel):
    revoked: int


@router.post("/{reference}/revoke-resident-access", responses=PROBLEM_RESPONSES)
async def revoke_resident_access(
    complaint: Complaint, staff: CurrentStaff, pool: Pool, request_id: RequestId
) -> AccessRevoked:
    """Revoke every resident access code of this complaint (a lost phone, a link sent to the wrong person).
    The resident can ask for a new link by e-mail, or staff issue a new code (`access-code`)."""
    require("revoke_resident_access", staff)
    revoked = await ResidentAccessRepository(pool).revoke_all(reference=complaint.reference)
    await AuditRepository(pool).append_by(
        staff,
        "revoke_resident_access",
        reference=complaint.reference,
        request_id=request_id,
        after={"revoked": revoked},
    )
    return AccessRevoked(revoked=revoked)


@router.post("/{reference}/access-code", responses=PROBLEM_RESPONSES)
async def issue_access_code(
    complaint: Complaint, staff: CurrentStaff, services: ServicesDep, request_id: RequestId
) -> AccessCodeIssued:
    """Issue a new access code to the complainant (or their representative, once consent is on file) and
    withdraw every earlier code, link and page session. It goes as every letter does: by e-mail (the code is
    drawn when the e-mail goes out), else by post: the answer's `letter`, holding the code, is shown only
    here, to print and post. 409 for a complaint whose personal data was destroyed, or an anonymous one."""
    require(ISSUE_ACCESS_CODE, staff)
    return await issue_new_code(services, staff, complaint, request_id=request_id)
