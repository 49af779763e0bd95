"""A complaint's event trail, a page at a time: every transition with what was written with it (notes,
messages, findings). The case read (`GET /api/complaints/{reference}`) shows only the latest few, so it stays
small on a complaint with thousands of notes and messages."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import Complaint, CurrentStaff, Pool, RequestId, require
from api.errors import PROBLEM_RESPONSES, ProblemError
from api.schemas import HistoryItem, history_item
from store.audit import AuditRepository
from store.complaints import ComplaintRepository

router = APIRouter(prefix="/api/complaints", tags=["complaints"])
MAX_SEQ = 2**31 - 1  # events.seq is a PostgreSQL integer


class EventPage(BaseModel):
    items: list[HistoryItem]
    next_cursor: str | None


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode()


def _after(cursor: str | None) -> int:
    if cursor is None:
        return -1
    try:
        kind, _, seq = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "seq":
            raise ValueError(kind)
        after = int(seq)
        if not -1 <= after <= MAX_SEQ:  # an edited cursor: the column could not even be compared with it
            raise ValueError(seq)
        return after
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise ProblemError(422, "Invalid request", "cursor: not a cursor this API issued") from error


@router.get("/{reference}/events", responses=PROBLEM_RESPONSES)
async def list_events(
    complaint: Complaint,
    staff: CurrentStaff,
    pool: Pool,
    request_id: RequestId,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    action: Annotated[
        str | None, Query(max_length=60, description="Only these events, e.g. add_note (the notes)")
    ] = None,
) -> EventPage:
    """The complaint's events in order, `limit` at a time: pass `next_cursor` back as `cursor` for the next
    page (none when there is no more). The read is recorded."""
    require("read", staff)
    await AuditRepository(pool).append_by(
        staff,
        "read",
        reference=complaint.reference,
        request_id=request_id,
        after={"events": True, "page": cursor is not None},
    )
    events = await ComplaintRepository(pool).events(
        reference=complaint.reference, after_seq=_after(cursor), limit=limit + 1, action=action
    )
    page, more = events[:limit], len(events) > limit
    return EventPage(
        items=[history_item(event) for event in page],
        next_cursor=_cursor(page[-1].seq) if more and page else None,
    )
