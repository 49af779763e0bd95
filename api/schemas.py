"""Request and response models of the staff API (model families per entity)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Any

import asyncpg
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from domain.inputs import EARLIEST, CleanInput
from domain.models import Channel, Complainant, Representative, Status
from domain.tsm import Tenure
from store.attachments import AttachmentInfo, AttachmentRepository
from store.complaints import ComplaintRecord, ComplaintRepository, EventRecord, NotificationRecord


def _received_in_range(moment: datetime) -> datetime:
    if moment.date() < EARLIEST:
        raise ValueError(f"must be on or after {EARLIEST.isoformat()}")
    return moment


class ComplaintCreate(CleanInput):
    """A complaint as logged by an officer (it may have arrived days ago: `received_at` keeps its date)."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "policy_id": "bexley",
                    "received_at": "2026-11-20T10:15:00Z",
                    "channel": "email",
                    "complainant": {
                        "name": "Ada Resident",
                        "email": "ada@example.org",
                        "preferred_contact": "email",
                    },
                    "service_area": "housing-repairs",
                    "summary": "Damp in the bedroom reported three times and not fixed.",
                    "desired_outcome": "Fix the damp and compensate for the damaged furniture.",
                }
            ]
        }
    }

    policy_id: str = Field(min_length=1, max_length=64)
    received_at: Annotated[AwareDatetime, AfterValidator(_received_in_range)]
    channel: Channel
    complainant: Complainant = Field(default_factory=Complainant)
    representative: Representative | None = None
    anonymous: bool = False
    # A code, never free text: it is a search attribute, a report key and the need-to-know unit.
    service_area: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    summary: str = Field(min_length=1, max_length=10_000)
    desired_outcome: str = Field(default="", max_length=5_000)
    staff_complained_about: list[str] = Field(default_factory=list, max_length=20)
    matter_arose_on: date | None = Field(
        default=None, description="When the matter happened or came to the complainant's notice"
    )
    out_of_time_reason: str | None = Field(
        default=None,
        max_length=5_000,
        description="Why a complaint made after the policy's time limit is taken on at the council's"
        " discretion",
    )
    tenure: Tenure | None = Field(
        default=None,
        description="Optional: the complainant's tenure (low_cost_rental, low_cost_home_ownership,"
        " leaseholder, other, not_a_tenant), for the Regulator's CH01 per tenure",
    )


class Deadlines(BaseModel):
    acknowledge_by: date | None
    respond_by: date | None
    extension_limit_by: date | None
    escalation_request_by: date | None


# The case read shows the latest events: a busy complaint's trail (hundreds of notes and messages) is read
# a page at a time (api/routes/events.py), so the read stays small however much is written on it.
READ_EVENTS = 10


class HistoryItem(BaseModel):
    seq: int
    at: datetime
    action: str
    actor: str
    role: str
    stage: int
    from_status: str
    to_status: str
    detail: dict[str, Any]


class ComplaintSummary(BaseModel):
    reference: str
    policy_id: str
    stage: int
    status: Status
    service_area: str
    complainant_name: str | None
    assigned_to: str | None
    received_at: datetime
    deadlines: Deadlines
    overdue: bool


class ComplaintRead(ComplaintSummary):
    channel: Channel
    anonymous: bool
    complainant: dict[str, Any]
    representative: dict[str, Any] | None
    summary: str
    desired_outcome: str
    outcome: str | None
    staff_complained_about: list[str]
    history: list[HistoryItem] = Field(
        description=f"The latest {READ_EVENTS} events (all: GET .../events?cursor=, a page at a time)."
    )
    events_total: int = Field(default=0, description="How many events the complaint's trail holds.")
    notifications: list[NotificationRecord]
    ledger: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    delivery_problem: bool
    tenure: Tenure | None = None
    etag: str
    attachments: list[AttachmentInfo] = Field(default_factory=list, description="Evidence (no content).")


class ComplaintList(BaseModel):
    items: list[ComplaintSummary]
    next_cursor: str | None


def deadlines_of(record: ComplaintRecord) -> Deadlines:
    open_window = record.escalation_request_by if record.status == Status.RESPONDED else None
    return Deadlines(
        acknowledge_by=record.acknowledge_by,
        respond_by=record.respond_by,
        extension_limit_by=record.extension_limit_by,
        escalation_request_by=open_window,
    )


def summary_of(record: ComplaintRecord) -> ComplaintSummary:
    return ComplaintSummary(
        reference=record.reference,
        policy_id=record.policy_id,
        stage=record.stage,
        status=Status(record.status),
        service_area=record.service_area,
        complainant_name=None if record.anonymous else record.complainant.get("name"),
        assigned_to=record.assigned_to,
        received_at=record.received_at,
        deadlines=deadlines_of(record),
        overdue=record.overdue,
    )


def history_item(event: EventRecord) -> HistoryItem:
    return HistoryItem(
        seq=event.seq,
        at=event.at,
        action=event.action,
        actor=event.actor_id,
        role=event.actor_role,
        stage=event.stage,
        from_status=event.from_status,
        to_status=event.to_status,
        detail=event.detail,
    )


def etag_of(record: ComplaintRecord) -> str:
    return f'"{record.reference}.{record.last_seq}"'


async def full_read(repository: ComplaintRepository, record: ComplaintRecord) -> ComplaintRead:
    """The complaint as staff read it: the record with its event trail and its letters."""
    # Three independent reads: on a pool they run side by side (one round trip of waiting, not three).
    pool = repository.executor
    if isinstance(pool, asyncpg.Pool):
        (events, total), notifications, attachments = await asyncio.gather(
            repository.latest_events(reference=record.reference, count=READ_EVENTS),
            repository.notifications(reference=record.reference),
            AttachmentRepository(pool).list(reference=record.reference),
        )
    else:
        events, total = await repository.latest_events(reference=record.reference, count=READ_EVENTS)
        notifications = await repository.notifications(reference=record.reference)
        attachments = await AttachmentRepository(pool).list(reference=record.reference)
    read = read_of(record, events, notifications)
    read.events_total = total
    read.attachments = attachments
    return read


def read_of(
    record: ComplaintRecord, events: list[EventRecord], notifications: list[NotificationRecord]
) -> ComplaintRead:
    return ComplaintRead(
        **summary_of(record).model_dump(),
        channel=Channel(record.channel),
        anonymous=record.anonymous,
        complainant={} if record.anonymous else record.complainant,
        representative=record.representative,
        summary=record.summary,
        desired_outcome=record.desired_outcome,
        outcome=record.outcome,
        staff_complained_about=record.staff_complained_about,
        tenure=Tenure(record.tenure) if record.tenure else None,
        history=[history_item(event) for event in events],
        events_total=len(events),
        # An access-link e-mail carries a resident's live token: staff see that one was sent, never the link.
        notifications=[
            letter.model_copy(update={"context": {**letter.context, "link": "(hidden)"}})
            if "link" in letter.context
            else letter
            for letter in notifications
        ],
        ledger=record.ledger(),
        actions=record.promised_actions(),
        delivery_problem=record.delivery_problem,
        etag=etag_of(record),
    )
