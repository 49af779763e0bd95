"""Residents' self-service API under /api/public.

Make a complaint (the answer carries the reference and, once, an access token; a link is e-mailed too), then
with `Authorization: Bearer <access token>`: read it, send information, answer an extension, ask for a review
(Stage 2) and withdraw. A token opens one complaint only; wrong tokens are counted and, past a limit, refused
with 429 (a right token always works). The e-mailed link carries a one-time code, which an API client can
exchange for a new access token. Making complaints and asking for links are limited per client address and
per e-mail address (429 with Retry-After).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Path, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import equality
from api.client_address import client_ip
from api.deps import RequestId, ServicesDep, answer_timing
from api.errors import PROBLEM_RESPONSES
from api.idempotency import Outcome, run_once_as
from api.resident import service
from api.resident.ratelimit import email_key
from api.resident.service import (
    ACCESS_LINK_ANSWER,
    AccessCodeExchange,
    AccessLinkRequest,
    AccessToken,
    EscalationBody,
    EscalationResult,
    ExtensionAnswerBody,
    InformationBody,
    PublicComplaintCreate,
    PublicComplaintCreated,
    ResidentAccess,
    ResidentAttachment,
    ResidentComplaintView,
    WithdrawBody,
)
from domain.equality import EqualityAnswers

router = APIRouter(prefix="/api/public", tags=["residents"])

_bearer = HTTPBearer(auto_error=False, description="The access token of one complaint.")
Reference = Annotated[str, Path(min_length=1, max_length=40, description="The complaint reference.")]
RESPONSES = {
    **PROBLEM_RESPONSES,
    429: {
        "description": "Too many attempts: try again after Retry-After seconds (a right token always works)"
    },
}


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


@router.post("/complaints", status_code=201, responses=RESPONSES, response_model=PublicComplaintCreated)
async def make_complaint(
    body: PublicComplaintCreate,
    request: Request,
    services: ServicesDep,
    request_id: RequestId,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="Makes a retried request make the complaint once"),
    ] = None,
) -> JSONResponse:
    """Make a complaint. The access token in the answer is shown once; a link to track the complaint is also
    e-mailed to the address given. With an `Idempotency-Key`, a retry (same key, same body) answers with the
    same complaint (and a new access token: the first is never stored) and `Idempotent-Replayed: true`.
    Limited per client address and per e-mail address (429 with Retry-After)."""

    async def make() -> Outcome:
        created = await service.create(
            services,
            body,
            request_id,
            client_ip=client_ip(request),
            timing=answer_timing(request),
            idempotency_key=idempotency_key,
        )
        return 201, created, created_headers(created.reference)

    async def again(stored: dict[str, Any]) -> dict[str, Any]:
        return await service.created_again(services, stored)

    return await run_once_as(
        pool=services.pool,
        owner=f"resident:{email_key(body.maker_email())}",
        key=idempotency_key,
        request=request,
        body=body.model_dump(mode="json"),
        operation=make,
        keep=service.without_code,
        replay=again,
    )


def created_headers(reference: str) -> dict[str, str]:
    return {"Location": f"/api/public/complaints/{reference}", "Cache-Control": "no-store"}


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


@router.post("/complaints/{reference}/attachments", status_code=201, responses=RESPONSES)
async def send_evidence(
    access: Resident,
    services: ServicesDep,
    request_id: RequestId,
    file: Annotated[UploadFile, File(description="The evidence (multipart form field `file`)")],
) -> ResidentAttachment:
    """Send a file as evidence (a photo, a letter, a document): 413 if too large, 415 if not an accepted
    type (see ATTACHMENT_MAX_BYTES and ATTACHMENT_CONTENT_TYPES)."""
    stored = await service.send_evidence(services, access, file, request_id)
    return ResidentAttachment(
        id=str(stored.id), filename=stored.filename, content_type=stored.content_type, size=stored.size
    )


@router.post("/complaints/{reference}/equality", status_code=201, responses=RESPONSES)
async def give_equality_answers(
    body: EqualityAnswers, access: Resident, services: ServicesDep
) -> dict[str, bool]:
    """Answer the optional equality monitoring questions (any may be left out). The answers are kept apart
    from your complaint: the people dealing with it never see them, and they are only ever counted."""
    await equality.submit(services.pool, access.record, body, "resident")
    return {"recorded": True}


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
        # Received, not accepted: the council decides whether the next stage goes ahead, and writes to say so.
        message=f"We have received your request to take your complaint to {complaint.stage_name}.",
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


@router.post("/complaints/{reference}/access-token", status_code=201, responses=RESPONSES)
async def exchange_link_code(
    reference: Reference,
    body: AccessCodeExchange,
    request: Request,
    services: ServicesDep,
    response: Response,
) -> AccessToken:
    """Exchange the one-time `code` of an e-mailed link (it works once) for a new access token."""
    token = await service.exchange_link_code(
        services, reference=reference, code=body.code, client_ip=client_ip(request)
    )
    response.headers["Cache-Control"] = "no-store"
    return token


@router.post("/complaints/{reference}/access-link", status_code=202, responses=RESPONSES)
async def request_access_link(
    reference: Reference, body: AccessLinkRequest, request: Request, services: ServicesDep
) -> JSONResponse:
    """E-mail a new access link to the complainant. The answer is the same whether or not the address (or
    the reference) matched, so it cannot be used to find out who complained. Limited per client address
    and per e-mail address (429 with Retry-After)."""
    await service.request_access_link(
        services, reference=reference, email=str(body.email), client_ip=client_ip(request)
    )
    return JSONResponse({"message": ACCESS_LINK_ANSWER}, status_code=202)
