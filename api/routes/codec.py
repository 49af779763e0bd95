"""The codec server for the Temporal Web UI: `POST /codec/decode` and `/codec/encode`.

Temporal's codec-server protocol (as in samples-python `encryption/codec_server.py`): the UI posts
`{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}` and gets the same shape back,
decrypted (or encrypted) with the service's payload codec. Complaint payloads hold personal data, so only the
roles allowed `decode_payloads` (manager and admin) may call it, with the bearer token the UI passes
(Temporal UI `codec.passAccessToken` behind the council's sign-in), and every call is audited. Only the
Temporal UI's origins (TEMPORAL_UI_ORIGINS) may call it from a browser (CORS, below).

Need-to-know and conflicts of interest hold here as on reads: a call names the workflow whose payloads it
decodes (`X-Workflow-Id` header, or `?workflow_id=`); a complaint's workflow is decoded only for someone who
may read that complaint (the same checks as `GET /api/complaints/{reference}`), and a decoded payload that
names a complaint the caller may not read is refused. Any other (system) workflow is decoded only for staff
not limited to service areas. The reference is in the audit row.

In development only, the dev stack's UI (which has no sign-in, so no token to pass) is let in without a
token, as `temporal-ui` with the admin role, and audited as such; in test and production no token is a 401.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload

from api.auth import InvalidToken, verify
from api.deps import Pool, RequestId, SettingsDep, load_complaint, require
from api.errors import PROBLEM_RESPONSES, ProblemError
from core.codec import EncryptionCodec, PayloadKeyError, parse_payload_keys
from core.settings import Settings
from domain.models import Role
from store.audit import AuditRepository
from store.complaints import NotFound
from store.staff import StaffUser

router = APIRouter(prefix="/codec", tags=["codec"])
PREFIX = "/codec/"
COMPLAINT_PREFIX = "complaint-"
# A complaint named in a decoded payload: its workflow id, or a reference as the service issues them.
_NAMED = re.compile(rb"complaint-([A-Za-z0-9][A-Za-z0-9_-]{0,60})|\b(CMP-\d{4}-\d{6,})\b")
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,60}")
_REFUSAL_KINDS = {403: "not_allowed", 404: "not_found"}
DEV_UI_USER = StaffUser(id="temporal-ui", name="Temporal Web UI (dev stack)", role=Role.ADMIN)

_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


class CodecPayload(BaseModel):
    metadata: dict[str, str] = Field(default_factory=dict, description="Metadata values, base64")
    data: str = Field(default="", description="Payload bytes, base64")


class CodecPayloads(BaseModel):
    payloads: list[CodecPayload]


async def codec_staff(token: Annotated[str | None, Depends(_bearer)], settings: SettingsDep) -> StaffUser:
    if not token:
        if settings.environment == "development":
            return DEV_UI_USER
        raise ProblemError(401, "Not authenticated", "a bearer token is required")
    try:
        staff = verify(token, settings)
    except InvalidToken as error:
        raise ProblemError(401, "Not authenticated", f"invalid token: {error}") from error
    require("decode_payloads", staff)
    return staff


CodecStaff = Annotated[StaffUser, Depends(codec_staff)]


def _to_protobuf(body: CodecPayloads) -> list[Payload]:
    try:
        return [
            Payload(
                metadata={k: base64.b64decode(v, validate=True) for k, v in item.metadata.items()},
                data=base64.b64decode(item.data, validate=True),
            )
            for item in body.payloads
        ]
    except ValueError as error:  # binascii.Error, or a non-ASCII character (which b64decode refuses apart)
        raise ProblemError(422, "Invalid request", "payloads: metadata and data must be base64") from error


def _from_protobuf(payloads: Iterable[Payload]) -> CodecPayloads:
    return CodecPayloads(
        payloads=[
            CodecPayload(
                metadata={name: base64.b64encode(value).decode() for name, value in payload.metadata.items()},
                data=base64.b64encode(payload.data).decode(),
            )
            for payload in payloads
        ]
    )


def _codec(settings: Settings) -> EncryptionCodec:
    return EncryptionCodec(parse_payload_keys(settings.payload_keys_or_dev))


async def _reference_for(
    workflow: str | None, staff: StaffUser, pool: Pool, settings: Settings
) -> str | None:
    """The complaint whose payloads are decoded (None: a system workflow, or the dev UI without a token),
    after the same need-to-know and conflict checks as a read; refused otherwise."""
    if not workflow:
        if staff is DEV_UI_USER and settings.environment == "development":
            return None
        raise ProblemError(
            422,
            "Invalid request",
            "name the workflow whose payloads these are (X-Workflow-Id or ?workflow_id=): nothing is"
            " decoded blind. The stock Temporal UI sends no workflow id; the sign-in proxy in front of it"
            " adds it from the page's address (deploy/temporal-ui-proxy/)",
        )
    if not workflow.startswith(COMPLAINT_PREFIX):
        if staff.service_areas is not None:
            raise ProblemError(403, "Not allowed", "only staff not limited to service areas may decode this")
        return None
    reference = workflow.removeprefix(COMPLAINT_PREFIX)
    try:
        await load_complaint(reference, pool, staff)
    except NotFound as error:
        raise ProblemError(404, "Not found", f"no complaint {reference}") from error
    return reference


async def _refuse_unreadable(payloads: list[Payload], staff: StaffUser, pool: Pool) -> None:
    """Every complaint a decoded payload names must be one the caller may read (the caller could name a
    workflow they may read and send another complaint's payloads)."""
    named = {
        (match.group(1) or match.group(2) or b"").decode("ascii", "replace")
        for payload in payloads
        for match in _NAMED.finditer(payload.data)
    }
    for reference in sorted(named):
        try:
            await load_complaint(reference, pool, staff)
        except NotFound as error:
            raise ProblemError(
                403, "Not allowed", "these payloads name a complaint you may not read"
            ) from error


async def _apply(
    action: str,
    transform: Callable[[list[Payload]], Awaitable[list[Payload]]],
    body: CodecPayloads,
    staff: StaffUser,
    pool: Pool,
    request_id: str,
    namespace: str | None,
    reference: str | None = None,
) -> CodecPayloads:
    try:
        result = await transform(_to_protobuf(body))
    except PayloadKeyError as error:
        raise ProblemError(422, "Invalid request", f"payloads: {error}") from error
    if action == "decode_payloads" and staff is not DEV_UI_USER:
        await _refuse_unreadable(result, staff, pool)
    await AuditRepository(pool).append_by(
        staff,
        action,
        reference=reference,
        request_id=request_id,
        after={"namespace": namespace, "payloads": len(result)},
    )
    return _from_protobuf(result)


@router.post("/decode", responses=PROBLEM_RESPONSES)
async def decode(
    body: CodecPayloads,
    staff: CodecStaff,
    pool: Pool,
    settings: SettingsDep,
    request_id: RequestId,
    x_namespace: Annotated[str | None, Header(max_length=200)] = None,
    x_workflow_id: Annotated[str | None, Header(max_length=200)] = None,
    workflow_id: Annotated[str | None, Query(max_length=200)] = None,
) -> CodecPayloads:
    """Decrypt payloads for the Temporal Web UI (managers and admins who may read the named workflow's
    complaint; audited with its reference)."""
    named = x_workflow_id or workflow_id
    try:
        reference = await _reference_for(named, staff, pool, settings)
        codec = _codec(settings)
        return await _apply(
            "decode_payloads", codec.decode, body, staff, pool, request_id, x_namespace, reference
        )
    except ProblemError as refusal:
        await _audit_refusal(refusal, named, staff, pool, request_id, x_namespace)
        raise


async def _audit_refusal(
    refusal: ProblemError,
    named: str | None,
    staff: StaffUser,
    pool: Pool,
    request_id: str,
    namespace: str | None,
) -> None:
    """A refused decode is audited too (issue 29): who tried, which complaint (when the workflow named one),
    why (`kind`: no workflow named, need-to-know, payloads of a complaint they may not read, bad input)."""
    reference = named.removeprefix(COMPLAINT_PREFIX) if named else None
    if reference is not None and (named == reference or not _REFERENCE.fullmatch(reference)):
        reference = None  # a system workflow, or not a reference: the audit row keeps no caller's text
    status = refusal.problem.status
    kind = "no_workflow_named" if not named and status == 422 else _REFUSAL_KINDS.get(status, "invalid")
    await AuditRepository(pool).append_by(
        staff,
        "decode_payloads_refused",
        reference=reference,
        request_id=request_id,
        after={"namespace": namespace, "status": status, "kind": kind},
    )


@router.post("/encode", responses=PROBLEM_RESPONSES)
async def encode(
    body: CodecPayloads,
    staff: CodecStaff,
    pool: Pool,
    settings: SettingsDep,
    request_id: RequestId,
    x_namespace: Annotated[str | None, Header(max_length=200)] = None,
) -> CodecPayloads:
    """Encrypt payloads the Temporal Web UI sends (e.g. a signal's input) (managers and admins; audited)."""
    codec = _codec(settings)
    return await _apply("encode_payloads", codec.encode, body, staff, pool, request_id, x_namespace)


class CodecCORS:
    """CORS for the codec endpoints only: the Temporal UI's origins may call them from the browser (with its
    token, or cookies when the UI includes credentials); the rest of the API allows no cross-origin calls."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self._app = app
        self._cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace", "X-Workflow-Id"],
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(PREFIX):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)
