"""Evidence: one way to accept, store, audit and hand back an attachment, for staff and residents alike.

Limits come from the settings (ATTACHMENT_MAX_BYTES, ATTACHMENT_CONTENT_TYPES): too big is 413, a type not
on the list is 415, an empty file is 422. The audit row holds the attachment's id, SHA-256, size and type,
never its content or its name (a resident's file name often says who they are).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.errors import ProblemError
from core.settings import Settings
from store.attachments import Attachment, AttachmentInfo, AttachmentRepository
from store.audit import AuditRepository
from store.complaints import Executor

MAX_NAME = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_filename(raw: str | None) -> str:
    """The file's own name, without any folder, control characters or an overlong tail."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".")
    return name[:MAX_NAME] or "attachment"


def media_type(raw: str | None) -> str:
    return (raw or "application/octet-stream").split(";", 1)[0].strip().lower()


async def read_upload(upload: UploadFile, settings: Settings) -> tuple[str, str, bytes]:
    """The upload's (name, content type, content), within the limits, or a 4xx problem."""
    kind = media_type(upload.content_type)
    if kind not in {allowed.lower() for allowed in settings.attachment_content_types}:
        raise ProblemError(
            415,
            "Unsupported file type",
            f"file: {kind} is not accepted; send one of {', '.join(settings.attachment_content_types)}",
        )
    content = await upload.read(settings.attachment_max_bytes + 1)
    if len(content) > settings.attachment_max_bytes:
        raise ProblemError(
            413, "File too large", f"file: larger than the limit of {settings.attachment_max_bytes} bytes"
        )
    if not content:
        raise ProblemError(422, "Invalid request", "file: the file is empty")
    return clean_filename(upload.filename), kind, content


def audit_facts(attachment: AttachmentInfo) -> dict[str, object]:
    """What the audit log keeps of a file: never its content or name."""
    return {
        "attachment_id": str(attachment.id),
        "sha256": attachment.sha256,
        "size": attachment.size,
        "content_type": attachment.content_type,
    }


async def store_upload(
    db: Executor,
    *,
    reference: str,
    upload: UploadFile,
    settings: Settings,
    actor_id: str,
    actor_role: str,
    request_id: str,
) -> AttachmentInfo:
    filename, kind, content = await read_upload(upload, settings)
    attachment = await AttachmentRepository(db).add(
        reference=reference,
        filename=filename,
        content_type=kind,
        content=content,
        uploaded_by=actor_id,
        uploader_role=actor_role,
    )
    await AuditRepository(db).append(
        actor_id=actor_id,
        actor_role=actor_role,
        action="attach",
        reference=reference,
        request_id=request_id,
        after=audit_facts(attachment),
    )
    return attachment


def download_response(attachment: Attachment) -> Response:
    """The file as a download (never shown inline: a file from outside is not run in the service's pages)."""
    ascii_name = attachment.filename.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(attachment.filename)}"
    return Response(
        content=attachment.content,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "sandbox",
        },
    )
