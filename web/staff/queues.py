"""The queues: My cases, Unassigned, Due within 3 working days, Overdue, Stage 2 and Waiting for
information, each with its count, filters and a search, soonest deadline first, a page at a time (keyset),
and the view as CSV. The rows come from the API's own list (api.casework.list_visible): the same
need-to-know, conflicts and audit row."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.casework import count_queues_visible, list_visible
from api.deps import request_id as request_id_of
from domain.due import due_soon_cutoff
from domain.models import FINAL_STATUSES, Role, Status
from reporting.files import cell
from store.complaints import ComplaintFilters, ComplaintRecord
from store.staff import StaffUser
from web.layout import LONDON, page, short_date
from web.staff.common import layout, services_of
from web.staff.session import StaffSession, signed_in

router = APIRouter(prefix="/staff", include_in_schema=False)
PAGE_SIZE = 25
CSV_LIMIT = 10_000
COUNT_CAP = 1000
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)  # the list's sort key for a complaint with no deadline


@dataclass(frozen=True)
class Queue:
    slug: str
    title: str
    filters: Callable[[StaffUser, date], ComplaintFilters]


QUEUES = [
    Queue("mine", "My cases", lambda staff, _: ComplaintFilters(open_only=True, assigned_to=staff.id)),
    Queue("unassigned", "Unassigned", lambda _, __: ComplaintFilters(open_only=True, unassigned=True)),
    Queue(
        "due-soon",
        "Due within 3 working days",
        # Not yet passed (the overdue ones have their own queue), and passing by the 3rd working day.
        lambda _, today: ComplaintFilters(
            open_only=True, deadline_from=datetime.now(UTC), deadline_before=due_soon_cutoff(today)
        ),
    ),
    Queue("overdue", "Overdue", lambda _, __: ComplaintFilters(open_only=True, overdue=True)),
    Queue("stage-2", "Stage 2", lambda _, __: ComplaintFilters(open_only=True, stage=2)),
    Queue(
        "waiting",
        "Waiting for information",
        lambda _, __: ComplaintFilters(status=Status.AWAITING_INFORMATION.value),
    ),
]
BY_SLUG = {queue.slug: queue for queue in QUEUES}
OPEN_STATUSES = [status for status in Status if status not in FINAL_STATUSES]


@dataclass
class ViewFilters:
    """The filters a staff member set on a queue (the query string), checked."""

    status: str = ""
    stage: str = ""
    policy: str = ""
    service_area: str = ""
    assigned_to: str = ""
    received_from: str = ""
    received_to: str = ""
    q: str = ""

    def query(self, **extra: str) -> str:
        pairs = {name: value for name, value in vars(self).items() if value} | extra
        return ("?" + urlencode(pairs)) if pairs else ""


def _day(text: str, field: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[field] = "Enter a real date, like 2026-11-20"
        return None
    if not 2000 <= day.year <= 2100:
        # The service's years (api/report_period.py): "received to" counts to the next day's start, and
        # 31 December 9999 has none (the page was an internal error).
        errors[field] = "Enter a date from 2000 to 2100, like 2026-11-20"
        return None
    return day


def apply_view(base: ComplaintFilters, view: ViewFilters, errors: dict[str, str]) -> ComplaintFilters:
    update: dict[str, Any] = {}
    if view.status:
        if view.status in {status.value for status in Status}:
            update["status"] = view.status
        else:
            errors["status"] = "Select a status from the list"
    if view.stage:
        if view.stage in ("1", "2"):
            update["stage"] = int(view.stage)
        else:
            errors["stage"] = "Select Stage 1 or Stage 2"
    for name in ("policy", "service_area", "assigned_to"):
        value = getattr(view, name).strip()
        if value:
            update["policy_id" if name == "policy" else name] = value
    start = _day(view.received_from, "received_from", errors)
    end = _day(view.received_to, "received_to", errors)
    if start:
        update["received_from"] = datetime.combine(start, time(0), tzinfo=LONDON)
    if end:
        update["received_to"] = datetime.combine(end + timedelta(days=1), time(0), tzinfo=LONDON)
    if view.q.strip():
        update["text"] = view.q.strip()[:200]
    # A filter the queue itself fixes (My cases' assignee, Stage 2's stage) is not widened by the form.
    fixed = {name for name, value in base.model_dump().items() if value is not None}
    return base.model_copy(update={name: value for name, value in update.items() if name not in fixed})


def encode_cursor(record: ComplaintRecord) -> str:
    key = (record.next_deadline or FAR_FUTURE).isoformat()
    return base64.urlsafe_b64encode(json.dumps([key, record.reference]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    """The cursor this page wrote, or None (the first page): one edited to a moment PostgreSQL cannot be
    sent (year 1 at +14:00 is year 0 in UTC) was an internal error."""
    try:
        key, reference = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        moment = datetime.fromisoformat(key)
        if moment.tzinfo is not None:
            moment.astimezone(UTC)  # OverflowError past the calendar's edge
        return moment, str(reference)
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return None


def view_of(
    status: str = Query("", max_length=40),
    stage: str = Query("", max_length=2),
    policy: str = Query("", max_length=64),
    service_area: str = Query("", max_length=100),
    assigned_to: str = Query("", max_length=200),
    received_from: str = Query("", max_length=10),
    received_to: str = Query("", max_length=10),
    q: str = Query("", max_length=200),
) -> ViewFilters:
    return ViewFilters(status, stage, policy, service_area, assigned_to, received_from, received_to, q)


Session = Annotated[StaffSession, Depends(signed_in)]
View = Annotated[ViewFilters, Depends(view_of)]


def row_of(record: ComplaintRecord) -> dict[str, Any]:
    return {
        "reference": record.reference,
        "name": "Anonymous" if record.anonymous else (record.complainant.get("name") or ""),
        "policy_id": record.policy_id,
        "service_area": record.service_area,
        "stage": record.stage,
        "status": record.status,
        "assigned_to": record.assigned_to or "",
        "next_deadline": record.next_deadline,
        "overdue": record.overdue,
        "seq": record.last_seq,  # the bulk form's: a complaint changed since the queue was shown is left
    }


@router.get("/queues/{slug}")
async def queue_page(
    request: Request, slug: str, session: Session, view: View, after: str = Query("", max_length=200)
) -> Response:
    services = services_of(request)
    staff = session.staff
    queue = BY_SLUG.get(slug)
    if queue is None:
        return page(
            "staff/refused.html",
            404,
            heading="Page not found",
            message="There is no such queue.",
            **layout(session, "queues"),
        )
    today = datetime.now(LONDON).date()
    errors: dict[str, str] = {}
    filters = apply_view(queue.filters(staff, today), view, errors)
    cursor = decode_cursor(after) if after else None
    records = await list_visible(
        services.pool,
        staff,
        filters,
        sort="next_deadline",
        after=cursor,
        limit=PAGE_SIZE,
        request_id=request_id_of(),
    )
    rows, more = records[:PAGE_SIZE], len(records) > PAGE_SIZE
    # From the kept counters (store/queue_counts.py; issue 25: a count of up to a thousand rows cost up to
    # 350 ms at 1,000,000 complaints), the same visibility rules as the list.
    counts = await count_queues_visible(
        services.pool, staff, BY_SLUG["due-soon"].filters(staff, today), COUNT_CAP
    )
    return page(
        "staff/queue.html",
        queues=QUEUES,
        queue=queue,
        counts=counts,
        cap=COUNT_CAP,
        rows=[row_of(record) for record in rows],
        next_query=view.query(after=encode_cursor(rows[-1])) if more and rows else None,
        first_query=view.query() if after else None,
        csv_query=view.query(),
        view=view,
        errors=errors,
        statuses=list(Status),
        policies=sorted(services.policies.values(), key=lambda policy: policy.name),
        bulk=staff.role is Role.MANAGER,
        **layout(session, "queues"),
    )


@router.get("/export/{slug}.csv")
async def queue_csv(request: Request, slug: str, session: Session, view: View) -> Response:
    """The queue's view as CSV (up to 10,000 rows), for a spreadsheet; audited like the page."""
    services = services_of(request)
    queue = BY_SLUG.get(slug)
    if queue is None:
        return Response("no such queue", status_code=404, media_type="text/plain")
    today = datetime.now(LONDON).date()
    filters = apply_view(queue.filters(session.staff, today), view, {})
    records = await list_visible(
        services.pool,
        session.staff,
        filters,
        sort="next_deadline",
        after=None,
        limit=CSV_LIMIT,
        request_id=request_id_of(),
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "reference",
            "complainant",
            "council",
            "service_area",
            "stage",
            "status",
            "assigned_to",
            "next_deadline",
            "overdue",
        ]
    )
    for record in records[:CSV_LIMIT]:
        row = row_of(record)
        # Each cell as the reports' CSV writes it (reporting.files.cell): a resident's name starting with
        # = + - @ would run as a formula in the spreadsheet it is opened in.
        writer.writerow(
            [
                cell(value)
                for value in (
                    row["reference"],
                    row["name"],
                    row["policy_id"],
                    row["service_area"],
                    row["stage"],
                    row["status"],
                    row["assigned_to"],
                    short_date(row["next_deadline"]),
                    "yes" if row["overdue"] else "no",
                )
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}.csv"', "Cache-Control": "no-store"},
    )
