"""Residents' self-service API under /api/public.

Make a complaint (the answer carries the reference and, once, an access token; a link is e-mailed too), then
with `Authorization: Bearer <access token>`: read it, send information, answer an extension, ask for a review
(Stage 2) and withdraw. A token opens one complaint only; wrong tokens are counted and limited (429).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import RequestId, ServicesDep
from api.errors import PROBLEM_RESPONSES
from api.resident import service
from api.resident.service import (
    ACCESS_LINK_ANSWER,
    AccessLinkRequest,
    EscalationBody,
    EscalationResult,
    ExtensionAnswerBody,
    InformationBody,
    PublicComplaintCreate,
    PublicComplaintCreated,
    ResidentAccess,
    ResidentComplaintView,
    WithdrawBody,
)

router = APIRouter(prefix="/api/public", tags=["residents"])

_bearer = HTTPBearer(auto_error=False, description="The access token of one complaint.")
Reference = Annotated[str, Path(min_length=1, max_length=40, description="The complaint reference.")]
RESPONSES = {
    **PROBLEM_RESPONSES,
    429: {"description": "Too many wrong access tokens: try again after Retry-After seconds"},
}


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def resident(
    reference: Reference,
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ResidentAccess:
    token = credentials.credentials if credentials else None
    return await service.authenticate(
        services, reference=reference, token=token, client_ip=client_ip(request)
    )


Resident = Annotated[ResidentAccess, Depends(resident)]


@router.post("/complaints", status_code=201, responses=RESPONSES)
async def make_complaint(
    body: PublicComplaintCreate, services: ServicesDep, request_id: RequestId, response: Response
) -> PublicComplaintCreated:
    """Make a complaint. The access token in the answer is shown once; a link to track the complaint is also
    e-mailed to the address given."""
    created = await service.create(services, body, request_id)
    response.headers["Location"] = f"/api/public/complaints/{created.reference}"
    response.headers["Cache-Control"] = "no-store"
    return created


@router.get("/complaints/{reference}", responses=RESPONSES)
async def read_complaint(access: Resident, services: ServicesDep) -> ResidentComplaintView:
    """The complaint's status, dates and the letters sent to you."""
    return await service.view(services, access)


@router.post("/complaints/{reference}/information", responses=RESPONSES)
async def send_information(
    body: InformationBody, access: Resident, services: ServicesDep, request_id: RequestId
) -> ResidentComplaintView:
    """Send new information about the complaint; the investigating officer is told."""
    await service.send_information(services, access, body, request_id)
    return await service.view(services, access)


@router.post("/complaints/{reference}/extension-answer", responses=RESPONSES)
async def answer_extension(
    body: ExtensionAnswerBody, access: Resident, services: ServicesDep, request_id: RequestId
) -> ResidentComplaintView:
    """Agree (up to a date) or refuse that the council answers later than its policy allows."""
    await service.answer_extension(services, access, body, request_id)
    return await service.view(services, access)


@router.post("/complaints/{reference}/escalation", responses=RESPONSES)
async def ask_for_review(
    body: EscalationBody, access: Resident, services: ServicesDep, request_id: RequestId
) -> EscalationResult:
    """Ask for a review (the next stage) with your reasons and the outcome you want. Accepted at once, or
    refused (409) with the reason, for example that the window closed on a date."""
    record = await service.ask_for_review(services, access, body, request_id)
    complaint = await service.view(services, access)
    return EscalationResult(
        accepted=True,
        stage=record.stage,
        status=complaint.status,
        message="Your request for a review has been accepted.",
        complaint=complaint,
    )


@router.post("/complaints/{reference}/withdraw", responses=RESPONSES)
async def withdraw(
    body: WithdrawBody, access: Resident, services: ServicesDep, request_id: RequestId
) -> ResidentComplaintView:
    """Withdraw the complaint."""
    await service.withdraw(services, access, body, request_id)
    return await service.view(services, access)


@router.delete("/complaints/{reference}/access-token", status_code=204, responses=RESPONSES)
async def revoke_access(
    access: Resident,
    services: ServicesDep,
    every: Annotated[bool, Query(alias="all", description="Revoke every token of this complaint")] = False,
) -> Response:
    """Revoke this access token (or, with `all=true`, every token of the complaint, for a leaked link)."""
    await service.revoke(services, access, every=every)
    return Response(status_code=204)


@router.post("/complaints/{reference}/access-link", status_code=202, responses=RESPONSES)
async def request_access_link(
    reference: Reference, body: AccessLinkRequest, services: ServicesDep
) -> JSONResponse:
    """E-mail a new access link to the complainant. The answer is the same whether or not the address (or
    the reference) matched, so it cannot be used to find out who complained."""
    await service.request_access_link(services, reference=reference, email=str(body.email))
    return JSONResponse({"message": ACCESS_LINK_ANSWER}, status_code=202)
