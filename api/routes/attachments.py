"""Evidence on a complaint: staff attach files, list them and download them (every upload and download is
audited, with the file's hash and size, never its content or name)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from api.attachments import audit_facts, download_response, store_upload
from api.deps import Complaint, CurrentStaff, Pool, RequestId, SettingsDep, require
from api.errors import PROBLEM_RESPONSES, ProblemError
from store.attachments import AttachmentInfo, AttachmentRepository
from store.audit import AuditRepository

router = APIRouter(prefix="/api/complaints", tags=["attachments"])

RESPONSES = {
    **PROBLEM_RESPONSES,
    413: {"description": "The file is larger than ATTACHMENT_MAX_BYTES"},
    415: {"description": "The file's type is not in ATTACHMENT_CONTENT_TYPES"},
}


@router.post("/{reference}/attachments", status_code=201, responses=RESPONSES)
async def attach(
    complaint: Complaint,
    staff: CurrentStaff,
    pool: Pool,
    settings: SettingsDep,
    request_id: RequestId,
    file: Annotated[UploadFile, File(description="The evidence (multipart form field `file`)")],
) -> AttachmentInfo:
    """Attach a file (evidence) to the complaint."""
    require("attach", staff)
    return await store_upload(
        pool,
        reference=complaint.reference,
        upload=file,
        settings=settings,
        actor_id=staff.id,
        actor_role=staff.role.value,
        request_id=request_id,
    )


@router.get("/{reference}/attachments", responses=PROBLEM_RESPONSES)
async def list_attachments(
    complaint: Complaint, staff: CurrentStaff, pool: Pool, request_id: RequestId
) -> list[AttachmentInfo]:
    """The complaint's attachments: name, type, size, hash, who sent them and when (not the content). The
    read is recorded (`attachments_list`: the names a resident gave their files can say who they are)."""
    require("read", staff)
    files = await AttachmentRepository(pool).list(reference=complaint.reference)
    await AuditRepository(pool).append_by(
        staff,
        "attachments_list",
        reference=complaint.reference,
        request_id=request_id,
        after={"count": len(files)},
    )
    return files


@router.get("/{reference}/attachments/{attachment_id}", responses=PROBLEM_RESPONSES)
async def download(
    complaint: Complaint, attachment_id: uuid.UUID, staff: CurrentStaff, pool: Pool, request_id: RequestId
) -> Response:
    """Download one attachment (always as a download, never shown inline). The download is recorded."""
    require("download_attachment", staff)
    attachment = await AttachmentRepository(pool).get(
        reference=complaint.reference, attachment_id=attachment_id
    )
    if attachment is None:
        raise ProblemError(
            404, "Not found", f"no attachment {attachment_id} on complaint {complaint.reference}"
        )
    await AuditRepository(pool).append_by(
        staff,
        "download_attachment",
        reference=complaint.reference,
        request_id=request_id,
        after=audit_facts(attachment),
    )
    return download_response(attachment)
