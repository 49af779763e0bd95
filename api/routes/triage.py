"""Triage of inbound e-mail (inbound/): the queue of messages no complaint took, what an officer does with
each, the register of service requests, and its report. The rules live in inbound/triage.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from api.deps import CurrentStaff, Pool, RequestId, ServicesDep, load_complaint, require
from api.errors import PROBLEM_RESPONSES, ProblemError
from api.report_period import at_most_ten_years, in_order
from inbound import triage
from inbound.store import InboundRepository, ServiceRequest, ServiceRequestRepository
from store.audit import AuditRepository

router = APIRouter(tags=["triage"])
LONDON = ZoneInfo("Europe/London")


class TriageDetail(triage.TriageItem):
    text: str
    intake: dict[str, Any] = Field(description="The intake the message gives, for open-complaint")


class Linked(BaseModel):
    id: uuid.UUID
    status: str
    reference: str | None = None


class LinkTo(BaseModel):
    reference: str = Field(min_length=1, max_length=40)


@router.get("/api/triage", responses=PROBLEM_RESPONSES)
async def triage_queue(
    staff: CurrentStaff,
    services: ServicesDep,
    request_id: RequestId,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[triage.TriageItem]:
    """Messages waiting for an officer, oldest first: sender, subject, the start of the text, the files
    (name, type, size) and when each arrived; `flag` says why one naming a complaint was not joined to it. A
    held web submission shows the date its sender was told (`acknowledge_by`, or `resolve_by`) and `due`.
    The read is recorded (`triage_list`, as the console's queue)."""
    require("triage", staff)
    messages = await InboundRepository(services.pool).triage(limit=limit)
    await AuditRepository(services.pool).append_by(
        staff, "triage_list", reference=None, request_id=request_id, after={"count": len(messages)}
    )
    return await triage.items_of(services, messages)


@router.get("/api/triage/{inbound_id}", responses=PROBLEM_RESPONSES)
async def triage_item(
    inbound_id: uuid.UUID, staff: CurrentStaff, services: ServicesDep, request_id: RequestId
) -> TriageDetail:
    """One message: its whole text, and the intake it gives (to complete for open-complaint). The read is
    recorded (`triage_read`, with the message's id, as the console's item page)."""
    require("triage", staff)
    message = await triage.waiting(services, inbound_id)
    await AuditRepository(services.pool).append_by(
        staff, "triage_read", reference=None, request_id=request_id, after={"inbound_id": str(inbound_id)}
    )
    [item] = await triage.items_of(services, [message])
    draft = await triage.intake_draft(services, message)
    return TriageDetail(**item.model_dump(), text=message.text or "", intake=draft)


@router.post("/api/triage/{inbound_id}/open-complaint", status_code=201, responses=PROBLEM_RESPONSES)
async def open_complaint(
    inbound_id: uuid.UUID,
    staff: CurrentStaff,
    services: ServicesDep,
    request_id: RequestId,
    body: Annotated[
        dict[str, Any], Body(examples=[{"policy_id": "bexley", "service_area": "housing-repairs"}])
    ],
) -> Linked:
    """Open a complaint from the message: the intake it gives (channel e-mail, received when it arrived,
    the sender, the text) completed by the body (the fields of `POST /api/complaints`); its files become
    evidence on the new complaint."""
    require("triage", staff)
    require("create", staff)
    reference = await triage.open_complaint(services, staff, inbound_id, body, request_id)
    return Linked(id=inbound_id, status="opened", reference=reference)


@router.post("/api/triage/{inbound_id}/link", responses=PROBLEM_RESPONSES)
async def link(
    inbound_id: uuid.UUID, body: LinkTo, staff: CurrentStaff, services: ServicesDep, request_id: RequestId
) -> Linked:
    """Join the message to a complaint: its text reaches it as new information (channel e-mail, when it
    arrived), its files as evidence."""
    require("triage", staff)
    record = await load_complaint(body.reference, services.pool, staff)
    require("add_information", staff, record.stage)
    await triage.link(services, staff, inbound_id, record, request_id)
    return Linked(id=inbound_id, status="linked", reference=record.reference)


@router.post("/api/triage/{inbound_id}/record-escalation", responses=PROBLEM_RESPONSES)
async def record_escalation(
    inbound_id: uuid.UUID,
    body: triage.EscalationFromEmail,
    staff: CurrentStaff,
    services: ServicesDep,
    request_id: RequestId,
) -> Linked:
    """Record the request for the next stage the e-mail makes, as received when the e-mail arrived."""
    require("triage", staff)
    record = await load_complaint(body.reference, services.pool, staff)
    require("request_escalation", staff, record.stage)
    await triage.record_escalation(services, staff, inbound_id, record, body, request_id)
    return Linked(id=inbound_id, status="escalation_recorded", reference=record.reference)


@router.post("/api/triage/{inbound_id}/service-request", status_code=201, responses=PROBLEM_RESPONSES)
async def service_request(
    inbound_id: uuid.UUID,
    body: triage.ServiceRequestFromEmail,
    staff: CurrentStaff,
    services: ServicesDep,
    request_id: RequestId,
) -> ServiceRequest:
    """Record the message as a service request (a request for a service, not a complaint about one)."""
    require("triage", staff)
    return await triage.record_service_request(services, staff, inbound_id, body, request_id)


@router.post("/api/triage/{inbound_id}/dismiss", responses=PROBLEM_RESPONSES)
async def dismiss(
    inbound_id: uuid.UUID,
    body: triage.Dismissal,
    staff: CurrentStaff,
    services: ServicesDep,
    request_id: RequestId,
) -> Linked:
    """Dismiss the message, with the reason (kept; the audit trail holds only its hash)."""
    require("triage", staff)
    await triage.dismiss(services, staff, inbound_id, body, request_id)
    return Linked(id=inbound_id, status="dismissed")


# ------------------------------------------------------------------------------ service-request register

RequestStatus = Literal["open", "passed_on", "done"]


class StatusChange(BaseModel):
    status: RequestStatus


@router.get("/api/service-requests", responses=PROBLEM_RESPONSES)
async def service_requests(
    staff: CurrentStaff, pool: Pool, status: Annotated[RequestStatus | None, Query()] = None
) -> list[ServiceRequest]:
    """The register of service requests, newest first."""
    require("triage", staff)
    return await ServiceRequestRepository(pool).register(status=status)


@router.post("/api/service-requests/{service_request_id}/status", responses=PROBLEM_RESPONSES)
async def set_status(
    service_request_id: uuid.UUID, body: StatusChange, staff: CurrentStaff, pool: Pool, request_id: RequestId
) -> ServiceRequest:
    require("triage", staff)
    changed = await ServiceRequestRepository(pool).set_status(service_request_id, body.status)
    if changed is None:
        raise ProblemError(404, "Not found", f"no service request {service_request_id}", "not-found")
    await AuditRepository(pool).append_by(
        staff,
        "service_request_status",
        reference=None,
        request_id=request_id,
        after={"inbound_id": str(changed.inbound_id), "status": changed.status},
    )
    return changed


class ServiceRequestCount(BaseModel):
    policy_id: str
    service_area: str
    status: str
    count: int


@router.get("/api/reports/service-requests", tags=["reports"], responses=PROBLEM_RESPONSES)
async def service_request_report(
    staff: CurrentStaff,
    pool: Pool,
    start: Annotated[date, Query(alias="from", description="First local date of receipt (inclusive)")],
    end: Annotated[date, Query(alias="to", description="Last local date of receipt (inclusive)")],
    policy_id: Annotated[str | None, Query(max_length=63)] = None,
) -> list[ServiceRequestCount]:
    """Service requests received in the period (local dates), by council, service area and status."""
    require("reports", staff)
    in_order(start, end)
    at_most_ten_years(start, end)
    if end >= date.max:  # the day after it, where the period ends, is past any date
        raise ProblemError(422, "Invalid request", "to: a report covers at most ten years")
    first = datetime.combine(start, time.min, LONDON)
    after_last = datetime.combine(end + timedelta(days=1), time.min, LONDON)
    rows = await ServiceRequestRepository(pool).counts(start=first, end=after_last, policy_id=policy_id)
    return [ServiceRequestCount.model_validate(row) for row in rows]
