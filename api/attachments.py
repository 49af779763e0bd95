"""Evidence: one way to accept, store, audit and hand back an attachment, for staff and residents alike.

Limits come from the settings (ATTACHMENT_MAX_BYTES, ATTACHMENT_CONTENT_TYPES): too big is 413, a type not
on the list is 415, an empty file is 422. The type is judged from the content (api/file_types.py), never the
client's Content-Type or name, and the stored name is derived from it; with CLAMD_ADDRESS set every file is
virus-scanned first (api/virus_scan.py). The audit row holds the attachment's id, SHA-256, size and type,
never its content or its name (a resident's file name often says who they are). The file and its audit row
are written in one transaction (issue 29): no file without its audit row, no audit row without its file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.errors import ProblemError
from api.file_types import RefusedFile, checked_type, safe_filename
from api.virus_scan import refuse_if_infected
from core.settings import Settings
from store.attachments import Attachment, AttachmentInfo, AttachmentRepository
from store.audit import AuditRepository
from store.complaints import Executor


async def read_upload(upload: UploadFile, settings: Settings) -> tuple[str, str, bytes]:
    """The upload's (name, content type, content), within the limits and judged by its content, or a 4xx
    problem."""
    content = await upload.read(settings.attachment_max_bytes + 1)
    if len(content) > settings.attachment_max_bytes:
        raise ProblemError(
            413, "File too large", f"file: larger than the limit of {settings.attachment_max_bytes} bytes"
        )
    if not content:
        raise ProblemError(422, "Invalid request", "file: the file is empty")
    accepted = ", ".join(settings.attachment_content_types)
    try:
        checked = checked_type(content)
    except RefusedFile as refused:
        raise ProblemError(
            415, "Unsupported file type", f"file: {refused}; send one of {accepted}"
        ) from refused
    if checked.content_type not in {allowed.lower() for allowed in settings.attachment_content_types}:
        raise ProblemError(
            415,
            "Unsupported file type",
            f"file: its content is {checked.content_type}, which is not accepted; send one of {accepted}",
        )
    await refuse_if_infected(settings.clamd_address, content)
    return safe_filename(upload.filename, checked), checked.content_type, content


def audit_facts(attachment: AttachmentInfo) -> dict[str, object]:
    """What the audit log keeps of a file: never its content or name."""
    return {
        "attachment_id": str(attachment.id),
        "sha256": attachment.sha256,
        "size": attachment.size,
        "content_type": attachment.content_type,
    }


@asynccontextmanager
async def _one_transaction(db: Executor) -> AsyncIterator[asyncpg.Connection | PoolConnectionProxy]:
    """A transaction on a connection of the pool, or on the caller's connection (a savepoint inside the
    caller's transaction, as inbound delivery's)."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as connection, connection.transaction():
            yield connection
    else:
        async with db.transaction():
            yield db


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
    # Checked (and scanned) before a connection is taken: a slow scan holds none.
    filename, kind, content = await read_upload(upload, settings)
    async with _one_transaction(db) as connection:
        # The case row locked against the retention purge (store/retention.py), which destroys a complaint's
        # evidence once: a file stored after it would be kept for ever. (A held submission has no case row.)
        destroyed = await connection.fetchval(
            "SELECT personal_data_destroyed_at FROM complaints WHERE reference = $1 FOR SHARE", reference
        )
        if destroyed is not None:
            raise ProblemError(
                409,
                "Not possible now",
                "this complaint's personal data was destroyed under the retention policy: no evidence is"
                " kept on it any more",
                "personal-data-destroyed",
            )
        attachment = await AttachmentRepository(connection).add(
            reference=reference,
            filename=filename,
            content_type=kind,
            content=content,
            uploaded_by=actor_id,
            uploader_role=actor_role,
        )
        await AuditRepository(connection).append(
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
