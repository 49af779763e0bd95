"""Evidence attached to a complaint: the file itself (bytea) beside the case, listed without its content."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from pydantic import BaseModel

from store.complaints import Executor


class AttachmentInfo(BaseModel):
    """What the case shows of an attachment (never its content)."""

    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploader_role: str
    created_at: datetime


class Attachment(AttachmentInfo):
    content: bytes


_INFO_COLUMNS = ", ".join(AttachmentInfo.model_fields)


class AttachmentRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def add(
        self,
        *,
        reference: str,
        filename: str,
        content_type: str,
        content: bytes,
        uploaded_by: str,
        uploader_role: str,
    ) -> AttachmentInfo:
        row = await self._db.fetchrow(
            "INSERT INTO attachments"
            " (reference, filename, content_type, size, sha256, content, uploaded_by, uploader_role)"
            f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {_INFO_COLUMNS}",
            reference,
            filename,
            content_type,
            len(content),
            hashlib.sha256(content).hexdigest(),
            content,
            uploaded_by,
            uploader_role,
        )
        assert row is not None
        return AttachmentInfo.model_validate(dict(row))

    async def list(self, *, reference: str) -> list[AttachmentInfo]:
        rows = await self._db.fetch(
            f"SELECT {_INFO_COLUMNS} FROM attachments WHERE reference = $1 ORDER BY created_at, id", reference
        )
        return [AttachmentInfo.model_validate(dict(row)) for row in rows]

    async def get(self, *, reference: str, attachment_id: uuid.UUID) -> Attachment | None:
        row = await self._db.fetchrow(
            f"SELECT {_INFO_COLUMNS}, content FROM attachments WHERE reference = $1 AND id = $2",
            reference,
            attachment_id,
        )
        return None if row is None else Attachment.model_validate(dict(row))


async def delete_attachments(db: Executor, reference: str) -> int:
    """Destroy every attachment of a complaint (the retention purge); returns how many were deleted."""
    result = await db.execute("DELETE FROM attachments WHERE reference = $1", reference)
    return int(result.split()[-1])
