"""The complaint case record and read model: raw SQL over asyncpg, one repository per aggregate."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic import BaseModel

from domain.letters import complainant_recipient
from domain.models import (
    Adjustments,
    CaseRow,
    ComplaintState,
    Intake,
    LedgerEntry,
    Notification,
    StageFacts,
    TrackedAction,
    Transition,
)
from store import case_texts, contact_restrictions


class NotFound(Exception):
    """No such complaint (the API turns this into 404)."""


class ComplaintRecord(BaseModel):
    """A complaint as the read model holds it."""

    reference: str
    workflow_id: str
    policy_id: str
    stage: int
    status: str
    channel: str
    service_area: str
    complainant: dict[str, Any]
    representative: dict[str, Any] | None
    anonymous: bool
    summary: str
    desired_outcome: str
    staff_complained_about: list[str]
    related_to: str | None
    assigned_to: str | None
    received_at: datetime
    acknowledge_by: date | None
    respond_by: date | None
    extension_limit_by: date | None
    escalation_request_by: date | None
    acknowledged_at: datetime | None
    responded_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    overdue: bool
    next_deadline: datetime | None
    state: dict[str, Any] | None
    last_seq: int
    delivery_problem: bool = False
    tenure: str | None = None  # the complainant's tenure (CH01), when recorded on intake
    created_by: str
    created_at: datetime
    updated_at: datetime

    def ledger(self) -> list[dict[str, Any]]:
        """The current stage's response-date ledger (lean record, or an older whole-state snapshot)."""
        details = self.state or {}
        if "ledger" in details:
            return list(details["ledger"])
        stages = details.get("stages") or [{}]
        return list(stages[-1].get("ledger", []))

    def agreed_up_to(self) -> date | None:
        """The latest response date the complainant agreed to at the current stage, if any."""
        details = self.state or {}
        if "ledger" in details:
            agreed = details.get("agreed_up_to")
        else:
            agreed = (details.get("stages") or [{}])[-1].get("agreed_up_to")
        return date.fromisoformat(agreed) if isinstance(agreed, str) else None

    def promised_actions(self) -> list[dict[str, Any]]:
        return list((self.state or {}).get("actions", []))


class EventRecord(BaseModel):
    seq: int
    at: datetime
    action: str
    actor_id: str
    actor_role: str
    stage: int
    from_status: str
    to_status: str
    detail: dict[str, Any]


class NotificationRecord(BaseModel):
    """A letter or e-mail on the case, and what became of it (pending, sent, skipped, uncertain, failed)."""

    id: str
    template: str
    audience: str
    recipient: str | None
    context: dict[str, Any]
    status: str
    created_at: datetime
    subject: str | None = None
    to_address: str | None = None
    channel: str | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
    # Set when a claim left by a stopped sender was resolved: 'confirmed by the provider' or 'sent again'.
    recovered: str | None = None


_EVENT_COLUMNS = "seq, at, action, actor_id, actor_role, stage, from_status, to_status, detail"


def _to_record(row: asyncpg.Record) -> ComplaintRecord:
    return ComplaintRecord.model_validate(dict(row))


_INSERT_INTAKE = """
INSERT INTO complaints (
    reference, workflow_id, policy_id, stage, status, channel, service_area, complainant_name, complainant,
    representative, anonymous, summary, desired_outcome, staff_complained_about, related_to, received_at,
    created_by, tenure
) VALUES ($1, $2, $3, 1, 'received', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (reference) DO NOTHING
"""

# The case row's columns an event sets, the same in both writes below: $1 the reference, $2 to $14 the
# CaseRow and the event's moment (`_row_arguments`). The writes differ in how the details ($15) apply and in
# which sequence ($16) wins.
_SET_ROW = """
    stage = $2, status = $3, assigned_to = $4, acknowledge_by = $5, respond_by = $6, extension_limit_by = $7,
    escalation_request_by = $8, acknowledged_at = $9, responded_at = $10,
    closed_at = CASE WHEN $3 IN ('closed', 'withdrawn', 'declined', 'escalation_refused')
                     THEN COALESCE(closed_at, $11::timestamptz, now()) END,
    outcome = $12, overdue = $13, next_deadline = $14"""

# Only a newer event moves the read model: a late retry of an older activity never overwrites newer state.
_APPLY_STATE = f"""
UPDATE complaints SET{_SET_ROW},
    state = $15, last_seq = $16, updated_at = now()
WHERE reference = $1 AND last_seq < $16
"""

# The record: the row's columns, with the stage's ledger and the promised actions merged into the details
# (`state`) only when the event changed them. An older event never applies; the same sequence applies again,
# since a workflow task that failed and was retried may have put another event at that sequence (the
# record is a local activity: its writes are not tied to the history the retry commits), and the retry's
# write, which comes last, is the one the workflow kept.
_APPLY_ROW = f"""
UPDATE complaints SET{_SET_ROW},
    state = COALESCE(state, '{{}}'::jsonb) || $15::jsonb, last_seq = $16, updated_at = now()
WHERE reference = $1 AND last_seq <= $16
RETURNING anonymous, complainant, representative, summary, desired_outcome
"""


def _row_arguments(reference: str, row: CaseRow, event_at: datetime | None) -> tuple[Any, ...]:
    """$1 to $14 of _APPLY_STATE and _APPLY_ROW: the complaint, its row after the event, the event's moment
    (the first moment a complaint reached an end is kept as `closed_at`)."""
    return (
        reference,
        row.stage,
        row.status.value,
        row.assigned_to,
        row.acknowledge_by,
        row.respond_by,
        row.extension_limit_by,
        row.escalation_request_by,
        row.acknowledged_at,
        row.responded_at,
        event_at,
        row.outcome.value if row.outcome else None,
        row.overdue,
        row.next_deadline,
    )


_COPY_PARTIES = """
UPDATE complaints c SET complainant = p.complainant, complainant_name = p.complainant_name,
    representative = p.representative, anonymous = p.anonymous
FROM complaints p WHERE c.reference = $1 AND p.reference = $2
"""

_CASE_PARTIES = """
SELECT anonymous, complainant, representative, summary, desired_outcome FROM complaints WHERE reference = $1
"""

# Events whose side records change the case row's people (store.complaints.apply_to_side_records).
_PARTY_EVENTS = frozenset({"record_representative_consent"})

# The event at a sequence: the last write wins (see _APPLY_ROW); returns the row when it was new or changed.
_RECORD_EVENT = """
INSERT INTO complaint_events (
    workflow_id, seq, reference, at, action, actor_id, actor_role, stage, from_status, to_status, detail
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (workflow_id, seq) DO UPDATE SET
    at = EXCLUDED.at, action = EXCLUDED.action, actor_id = EXCLUDED.actor_id,
    actor_role = EXCLUDED.actor_role, stage = EXCLUDED.stage, from_status = EXCLUDED.from_status,
    to_status = EXCLUDED.to_status, detail = EXCLUDED.detail
WHERE (complaint_events.action, complaint_events.at, complaint_events.detail)
      IS DISTINCT FROM (EXCLUDED.action, EXCLUDED.at, EXCLUDED.detail)
RETURNING (xmax <> 0) AS replaced
"""

# Letters of an event that a retried workflow task replaced, not yet sent: they were never decided.
_SUPERSEDE_NOTIFICATIONS = """
UPDATE notifications SET status = 'skipped', last_error = 'superseded: the workflow task was retried'
WHERE workflow_id = $1 AND seq = $2 AND status = 'pending' AND NOT (id = ANY($3::text[]))
"""

_CONSENT_ON_FILE = """
UPDATE complaints SET representative = representative
    || jsonb_build_object('consent_recorded', true, 'consent_kind', $2::text, 'consent_recorded_on', $3::text)
WHERE reference = $1 AND representative IS NOT NULL
"""

_INSERT_EVENT = """
INSERT INTO complaint_events (
    workflow_id, seq, reference, at, action, actor_id, actor_role, stage, from_status, to_status, detail
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (workflow_id, seq) DO NOTHING
"""

_INSERT_NOTIFICATION = """
INSERT INTO notifications (id, reference, workflow_id, seq, template, audience, recipient, context)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO NOTHING
"""


# The facts of one stage (domain/facts.py), keyed like the case row: only a newer event replaces them.
_UPSERT_STAGE = """
INSERT INTO complaint_stages (
    reference, stage, policy_id, service_area, received_on, day_zero, acknowledge_by, acknowledged_on,
    original_respond_by, respond_by, respond_by_when_answered, responded_on, working_days_to_respond,
    closed_on, ended, outcome, exclusion, extensions, extension_working_days, extended_with_agreement,
    clock_stops, clock_stopped_working_days, remedies, remedy_count, compensation_pence,
    independent_reviewer, actions_promised, actions_done, actions_overdue, ombudsman_referred_on,
    ombudsman_decided_on, ombudsman_decision, root_cause, last_seq, early_resolution, tenure,
    code_acknowledge_by, code_respond_by
)
SELECT $1, $2, c.policy_id, c.service_area, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
       $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $32, $31, $33, c.tenure, $34, $35
FROM complaints c WHERE c.reference = $1
ON CONFLICT (reference, stage) DO UPDATE SET
    received_on = EXCLUDED.received_on, day_zero = EXCLUDED.day_zero,
    acknowledge_by = EXCLUDED.acknowledge_by,
    acknowledged_on = EXCLUDED.acknowledged_on, original_respond_by = EXCLUDED.original_respond_by,
    respond_by = EXCLUDED.respond_by, respond_by_when_answered = EXCLUDED.respond_by_when_answered,
    responded_on = EXCLUDED.responded_on, working_days_to_respond = EXCLUDED.working_days_to_respond,
    closed_on = EXCLUDED.closed_on, ended = EXCLUDED.ended, outcome = EXCLUDED.outcome,
    exclusion = EXCLUDED.exclusion, extensions = EXCLUDED.extensions,
    extension_working_days = EXCLUDED.extension_working_days,
    extended_with_agreement = EXCLUDED.extended_with_agreement, clock_stops = EXCLUDED.clock_stops,
    clock_stopped_working_days = EXCLUDED.clock_stopped_working_days, remedies = EXCLUDED.remedies,
    remedy_count = EXCLUDED.remedy_count, compensation_pence = EXCLUDED.compensation_pence,
    independent_reviewer = EXCLUDED.independent_reviewer, actions_promised = EXCLUDED.actions_promised,
    actions_done = EXCLUDED.actions_done, actions_overdue = EXCLUDED.actions_overdue,
    ombudsman_referred_on = EXCLUDED.ombudsman_referred_on,
    ombudsman_decided_on = EXCLUDED.ombudsman_decided_on,
    ombudsman_decision = EXCLUDED.ombudsman_decision, root_cause = EXCLUDED.root_cause,
    last_seq = EXCLUDED.last_seq, early_resolution = EXCLUDED.early_resolution, tenure = EXCLUDED.tenure,
    code_acknowledge_by = EXCLUDED.code_acknowledge_by, code_respond_by = EXCLUDED.code_respond_by
WHERE complaint_stages.last_seq <= EXCLUDED.last_seq
"""


async def upsert_stage_facts(db: Executor, *, reference: str, seq: int, facts: StageFacts) -> None:
    """Write a stage's facts (with the complaint-wide ones) for reports; older events never win."""
    await db.execute(
        _UPSERT_STAGE,
        reference,
        facts.number,
        facts.received_on,
        facts.day_zero,
        facts.acknowledge_by,
        facts.acknowledged_on,
        facts.original_respond_by,
        facts.respond_by,
        facts.respond_by_when_answered,
        facts.responded_on,
        facts.working_days_to_respond,
        facts.closed_on,
        facts.ended,
        facts.outcome.value if facts.outcome else None,
        facts.exclusion,
        facts.extensions,
        facts.extension_working_days,
        facts.extended_with_agreement,
        facts.clock_stops,
        facts.clock_stopped_working_days,
        [remedy.model_dump(mode="json") for remedy in facts.remedies],
        len(facts.remedies),
        sum(remedy.amount_pence or 0 for remedy in facts.remedies),
        facts.stage2_by_other_than_stage1,
        facts.actions_promised,
        facts.actions_done,
        facts.actions_overdue,
        facts.ombudsman_referred_on,
        facts.ombudsman_decided_on,
        facts.ombudsman_decision,
        seq,
        facts.root_cause,
        facts.early_resolution,
        facts.code_acknowledge_by,
        facts.code_respond_by,
    )


Executor = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy


def _event_columns(transition: Transition) -> tuple[Any, ...]:
    """An event row's columns after (workflow id, sequence, reference)."""
    return (
        transition.at,
        transition.action,
        transition.actor.id,
        transition.actor.role.value,
        transition.stage,
        transition.from_status.value,
        transition.to_status.value,
        json.loads(json.dumps(transition.detail, default=str)),
    )


async def apply_to_side_records(db: Executor, *, reference: str, transition: Transition) -> None:
    """What a few events change beyond the case row and the event trail, in one place, so that every path that
    writes an event (the record activity, the older whole-state record, the read-model rebuild) applies them
    alike: a representative's consent put on file, and a contact restriction decided or lifted."""
    if transition.action == "record_representative_consent":
        detail = transition.detail
        await db.execute(_CONSENT_ON_FILE, reference, detail["consent_kind"], str(detail["received_on"]))
    elif transition.action in contact_restrictions.RESTRICTION_EVENTS:
        await contact_restrictions.record_event(db, reference=reference, transition=transition)


class ComplaintRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    @property
    def executor(self) -> Executor:
        """The pool or connection this repository runs on (for the case's other tables, in step)."""
        return self._db

    async def next_reference(self, *, year: int) -> str:
        number = await self._db.fetchval("SELECT nextval('complaint_number_seq')")
        return f"CMP-{year}-{number:06d}"

    async def insert_intake(
        self, *, reference: str, workflow_id: str, intake: Intake, created_by: str
    ) -> None:
        inserted = await self._db.execute(
            _INSERT_INTAKE,
            reference,
            workflow_id,
            intake.policy_id,
            intake.channel.value,
            intake.service_area,
            None if intake.anonymous else intake.complainant.name,
            intake.complainant.model_dump(mode="json"),
            intake.representative.model_dump(mode="json") if intake.representative else None,
            intake.anonymous,
            intake.summary,
            intake.desired_outcome,
            intake.staff_complained_about,
            intake.related_to,
            intake.received_at,
            created_by,
            intake.tenure.value if intake.tenure else None,
        )
        if intake.parties_from and inserted.endswith(" 1"):
            # A linked complaint: the same people as the complaint it came from (never in the workflow).
            await self._db.execute(_COPY_PARTIES, reference, intake.parties_from)

    async def apply_event(
        self,
        *,
        workflow_id: str,
        state: ComplaintState,
        transition: Transition | None,
        notifications: list[Notification],
        created_by: str,
        stages: list[StageFacts] | None = None,
    ) -> None:
        """Write one workflow event: the read model, the event trail and the outbox, in one transaction.

        Idempotent: keyed by (workflow id, event sequence), so a retried activity changes nothing.
        """
        row = CaseRow.of(state)
        # The moment of the transition: the read model keeps the first moment a complaint reached an end.
        event_at = transition.at if transition is not None else None
        assert isinstance(self._db, asyncpg.Pool)
        async with self._db.acquire() as connection, connection.transaction():
            await ComplaintRepository(connection).insert_intake(
                reference=state.reference,
                workflow_id=workflow_id,
                intake=case_texts.restored_intake(state.intake),
                created_by=created_by,
            )
            # The state has no text (issue 23): the row keeps the actions' descriptions and the ledger's
            # reasons it already shows.
            snapshot = state.model_dump(mode="json")
            descriptions = await case_texts.action_descriptions(connection, state.reference, None)
            snapshot["actions"] = [
                action | {"description": descriptions.get(action["id"], "")} for action in snapshot["actions"]
            ]
            snapshot["ledger"] = await case_texts.ledger_with_reasons(
                connection, state.reference, state.current.ledger, None
            )
            snapshot["agreed_up_to"] = snapshot["stages"][-1].get("agreed_up_to")
            await connection.execute(
                _APPLY_STATE, *_row_arguments(state.reference, row, event_at), snapshot, state.seq
            )
            if transition is not None:
                await ComplaintRepository(connection).insert_transitions(
                    workflow_id=workflow_id, reference=state.reference, transitions=[transition]
                )
                await apply_to_side_records(connection, reference=state.reference, transition=transition)
            for facts in stages or []:
                await upsert_stage_facts(connection, reference=state.reference, seq=state.seq, facts=facts)
            for index, notification in enumerate(notifications):
                await connection.execute(
                    _INSERT_NOTIFICATION,
                    f"{workflow_id}:{state.seq}:{index}:{notification.template}",
                    state.reference,
                    workflow_id,
                    state.seq,
                    notification.template,
                    notification.audience,
                    notification.recipient,
                    json.loads(json.dumps(notification.context, default=str)),
                )

    async def record(
        self,
        *,
        workflow_id: str,
        reference: str,
        seq: int,
        row: CaseRow,
        intake: Intake | None,
        created_by: str,
        ledger: list[LedgerEntry] | None,
        agreed_up_to: date | None,
        actions: list[TrackedAction] | None,
        transition: Transition | None,
        notifications: list[Notification],
        stage: StageFacts | None = None,
    ) -> bool:
        """Write one workflow event (the lean record): the case row (created from the intake with the first
        event), the event trail and the outbox, in one transaction. Returns whether letters were queued.

        Idempotent: keyed by (workflow id, event sequence), so a retried activity changes nothing; a retried
        workflow task that put another event at the same sequence replaces it (the last write is the one the
        history kept), and the replaced event's unsent letters are skipped. A complainant's letter is
        addressed here, from the case row: to the representative with consent, else the complainant; an
        anonymous complainant gets none.
        """
        details: dict[str, Any] = {}
        assert isinstance(self._db, asyncpg.Pool)
        async with self._db.acquire() as connection, connection.transaction():
            repository = ComplaintRepository(connection)
            if intake is not None:
                await repository.insert_intake(
                    reference=reference, workflow_id=workflow_id, intake=intake, created_by=created_by
                )
            if ledger is not None:
                details["ledger"] = await case_texts.ledger_with_reasons(
                    connection, reference, ledger, transition
                )
                details["agreed_up_to"] = agreed_up_to.isoformat() if agreed_up_to else None
            descriptions: dict[str, str] | None = None
            if actions is not None or any("action_id" in letter.context for letter in notifications):
                # The workflow tracks actions without their words: they come from the event that promised
                # them, else from the case record (issue 23).
                descriptions = await case_texts.action_descriptions(connection, reference, transition)
            if actions is not None:
                assert descriptions is not None
                details["actions"] = [
                    action.model_dump(mode="json") | {"description": descriptions.get(action.id, "")}
                    for action in actions
                ]
            event_at = transition.at if transition is not None else None
            # The row's people come back with the update (one round trip less per event, issue 23's bench).
            parties = await connection.fetchrow(
                _APPLY_ROW, *_row_arguments(reference, row, event_at), details, seq
            )
            if stage is not None:
                await upsert_stage_facts(connection, reference=reference, seq=seq, facts=stage)
            ids = [
                f"{workflow_id}:{seq}:{index}:{letter.template}" for index, letter in enumerate(notifications)
            ]
            if transition is not None:
                written = await connection.fetchrow(
                    _RECORD_EVENT, workflow_id, seq, reference, *_event_columns(transition)
                )
                if written is not None and written["replaced"]:
                    await connection.execute(_SUPERSEDE_NOTIFICATIONS, workflow_id, seq, ids)
                # (An event that puts consent on file sends no letter: the recipient read below stands.)
                await apply_to_side_records(connection, reference=reference, transition=transition)
            if not notifications:
                return False
            # Read again only when the update did not apply (an older event retried) or the event changed
            # the people themselves (consent put on file by apply_to_side_records).
            case = parties
            if case is None or (transition is not None and transition.action in _PARTY_EVENTS):
                case = await connection.fetchrow(_CASE_PARTIES, reference)
            if case is None:
                return False
            recipient = complainant_recipient(
                anonymous=case["anonymous"],
                complainant=case["complainant"],
                representative=case["representative"],
            )
            story = complainant_story(dict(case))
            needs = adjustments_of(case["complainant"])
            queued = 0
            for index, notification in enumerate(notifications):
                notification = await case_texts.with_texts(
                    connection, reference, notification, descriptions or {}
                )
                if notification.audience == "complainant":
                    if recipient is None:
                        continue  # nothing addressed to nobody is queued
                    notification = notification.model_copy(
                        update={"recipient": recipient, "context": story | notification.context}
                    )
                elif needs is not None and needs.summary():
                    notification = notification.model_copy(
                        update={"context": {"adjustments": needs.summary()} | notification.context}
                    )
                inserted = await connection.fetchval(
                    _INSERT_NOTIFICATION + " RETURNING true",
                    ids[index],
                    reference,
                    workflow_id,
                    seq,
                    notification.template,
                    notification.audience,
                    notification.recipient,
                    json.loads(json.dumps(notification.context, default=str)),
                )
                queued += 1 if inserted else 0
            return queued > 0

    async def insert_transitions(
        self, *, workflow_id: str, reference: str, transitions: list[Transition]
    ) -> None:
        """Add transitions to the event trail; ones already there (same workflow and sequence) are kept."""
        await self._db.executemany(
            _INSERT_EVENT,
            [
                (workflow_id, transition.seq, reference, *_event_columns(transition))
                for transition in transitions
            ],
        )

    async def get(self, *, reference: str) -> ComplaintRecord:
        row = await self._db.fetchrow(
            f"SELECT {_RECORD_COLUMNS} FROM complaints WHERE reference = $1", reference
        )
        if row is None:
            raise NotFound(reference)
        return _to_record(row)

    async def get_for(self, *, reference: str, staff_id: str) -> tuple[ComplaintRecord, bool]:
        """The case row and whether `staff_id` declared a conflict of interest on it, in one round trip
        (every staff request reads both: api.casework.visible_complaint)."""
        row = await self._db.fetchrow(
            f"SELECT {_RECORD_COLUMNS}, EXISTS (SELECT 1 FROM staff_conflicts k WHERE k.reference = $1"
            " AND k.staff_id = $2) AS conflict_declared FROM complaints WHERE reference = $1",
            reference,
            staff_id,
        )
        if row is None:
            raise NotFound(reference)
        columns = dict(row)
        declared = bool(columns.pop("conflict_declared"))
        return ComplaintRecord.model_validate(columns), declared

    async def events(
        self,
        *,
        reference: str,
        after_seq: int = -1,
        limit: int | None = None,
        action: str | None = None,
    ) -> list[EventRecord]:
        """The event trail in order, from after `after_seq`, at most `limit` (all by default), of one
        `action` only if given (`add_note`: the notes)."""
        rows = await self._db.fetch(
            f"SELECT {_EVENT_COLUMNS} FROM complaint_events WHERE reference = $1 AND seq > $2"
            " AND ($3::text IS NULL OR action = $3) ORDER BY seq LIMIT $4",
            reference,
            after_seq,
            action,
            limit,
        )
        return [EventRecord.model_validate(dict(row)) for row in rows]

    async def latest_events(self, *, reference: str, count: int) -> tuple[list[EventRecord], int]:
        """The last `count` events in order, and how many the trail holds."""
        rows = await self._db.fetch(
            f"SELECT * FROM (SELECT {_EVENT_COLUMNS}, count(*) OVER () AS total FROM complaint_events"
            " WHERE reference = $1 ORDER BY seq DESC LIMIT $2) latest ORDER BY seq",
            reference,
            count,
        )
        total = rows[0]["total"] if rows else 0
        events = [EventRecord.model_validate({k: v for k, v in row.items() if k != "total"}) for row in rows]
        return events, total

    async def notifications(self, *, reference: str) -> list[NotificationRecord]:
        rows = await self._db.fetch(
            f"SELECT {', '.join(NotificationRecord.model_fields)}"
            " FROM notifications WHERE reference = $1 ORDER BY created_at, seq, id",
            reference,
        )
        return [NotificationRecord.model_validate(dict(row)) for row in rows]


def complainant_story(case: Mapping[str, Any]) -> dict[str, Any]:
    """What a complainant's letter takes from the case row when it is queued (and previewed: issue 25): the
    complaint's summary and outcome wanted, and the letter format asked for."""
    story = {"summary": case["summary"], "desired_outcome": case["desired_outcome"]}
    needs = adjustments_of(case["complainant"])
    if needs is not None:
        # Letters honour the format; every staff notice says what the complainant needs.
        story |= {"large_print": needs.large_print, "letter_format": needs.preferred_format.value}
    return story


def adjustments_of(complainant: dict[str, Any] | None) -> Adjustments | None:
    """The complainant's reasonable adjustments as the case row holds them (None when none were given)."""
    raw = (complainant or {}).get("adjustments")
    return Adjustments.model_validate(raw) if raw else None


class ComplaintFilters(BaseModel):
    """List filters; every one has an index behind it (migrations/001_case_store.sql)."""

    policy_id: str | None = None
    stage: int | None = None
    status: str | None = None
    service_area: str | None = None
    assigned_to: str | None = None
    overdue: bool | None = None
    due_before: date | None = None
    due_after: date | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    text: str | None = None
    exclude_naming: str | None = None  # hide complaints that name this staff member (conflict of interest)
    exclude_conflicted: str | None = None  # hide complaints this staff member declared a conflict on
    service_areas: list[str] | None = None  # need-to-know: only these areas (None: every area)
    # The staff console's queues: open complaints only, nobody assigned, the next deadline before a moment.
    open_only: bool | None = None
    unassigned: bool | None = None
    deadline_before: datetime | None = None
    deadline_from: datetime | None = None


SORTS: dict[str, tuple[str, str]] = {
    # name: (SQL expression, direction); the reference breaks ties so the cursor is exact.
    "received_at": ("received_at", "ASC"),
    "-received_at": ("received_at", "DESC"),
    "respond_by": ("COALESCE(respond_by, DATE '9999-12-31')", "ASC"),
    "-respond_by": ("COALESCE(respond_by, DATE '9999-12-31')", "DESC"),
    # The console's queues: soonest deadline first (migrations/270's index for open complaints).
    "next_deadline": ("COALESCE(next_deadline, TIMESTAMPTZ '9999-12-31 00:00:00+00')", "ASC"),
}
# Matches the predicate of migrations/270's partial index word for word, so the planner uses it.
OPEN_CLAUSE = "status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused')"


# A list page needs no workflow state snapshot (about 2 kB a row): it is read only for one complaint.
_LIST_COLUMNS = ", ".join(
    ["NULL::jsonb AS state"] + [name for name in ComplaintRecord.model_fields if name != "state"]
)
_RECORD_COLUMNS = ", ".join(ComplaintRecord.model_fields)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(filters: ComplaintFilters) -> tuple[list[str], list[Any]]:
    """The SQL conditions of the filters and their arguments ($1, $2... in order)."""
    clauses: list[str] = []
    args: list[Any] = []

    def add(clause: str, value: Any) -> None:
        args.append(value)
        clauses.append(clause.replace("?", f"${len(args)}"))

    simple = {
        "policy_id": "policy_id = ?",
        "stage": "stage = ?",
        "status": "status = ?",
        "service_area": "service_area = ?",
        "assigned_to": "assigned_to = ?",
        "overdue": "overdue = ?",
        "due_before": "respond_by <= ?",
        "due_after": "respond_by >= ?",
        "received_from": "received_at >= ?",
        "received_to": "received_at <= ?",
        "exclude_naming": "NOT (? = ANY(staff_complained_about))",
        "exclude_conflicted": "NOT EXISTS (SELECT 1 FROM staff_conflicts c"
        " WHERE c.reference = complaints.reference AND c.staff_id = ?)",
        "service_areas": "service_area = ANY(?::text[])",
        "deadline_before": "COALESCE(next_deadline, TIMESTAMPTZ '9999-12-31 00:00:00+00') < ?",
        "deadline_from": "COALESCE(next_deadline, TIMESTAMPTZ '9999-12-31 00:00:00+00') >= ?",
    }
    if filters.open_only:
        clauses.append(OPEN_CLAUSE)
    if filters.unassigned:
        clauses.append("assigned_to IS NULL")
    for name, clause in simple.items():
        value = getattr(filters, name)
        if value is not None:
            add(clause, value)
    if filters.text:
        # A reference by its start, or words (by their start) of the name, summary or service area: both
        # answered from indexes (migrations/005), never by reading every complaint.
        args.append(f"{_escape_like(filters.text.strip().upper())}%")
        reference_match = f"reference LIKE ${len(args)}"
        words = re.findall(r"[^\W_]+", filters.text.lower())  # letters and digits only: safe in a tsquery
        if words:
            args.append(" & ".join(f"{word}:*" for word in words))
            clauses.append(f"({reference_match} OR search @@ to_tsquery('simple', ${len(args)}))")
        else:
            clauses.append(reference_match)
    return clauses, args


async def count_complaints(
    db: Executor, *, filters: ComplaintFilters, cap: int = 1000, sort: str = "next_deadline"
) -> int:
    """How many complaints match, counted up to `cap` + 1 (a queue says "more than 1,000" beyond): a
    count never reads more rows than a page of a thousand would. In the list's order, so it walks the
    list's index (migrations/270) rather than a plan guessed from the LIMIT."""
    clauses, args = _where(filters)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    expression, direction = SORTS[sort]
    args.append(cap + 1)
    count: int = await db.fetchval(
        f"SELECT count(*) FROM (SELECT 1 FROM complaints {where}"
        f" ORDER BY {expression} {direction}, reference {direction} LIMIT ${len(args)}) AS matching",
        *args,
    )
    return count


async def search_complaints(
    db: Executor, *, filters: ComplaintFilters, sort: str, after: tuple[Any, str] | None, limit: int
) -> list[ComplaintRecord]:
    """One page of complaints, keyset-paginated on (sort key, reference)."""
    clauses, args = _where(filters)
    expression, direction = SORTS[sort]
    if after is not None:
        operator = ">" if direction == "ASC" else "<"
        args.extend(after)
        clauses.append(f"({expression}, reference) {operator} (${len(args) - 1}, ${len(args)})")
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    args.append(limit)
    sql = (
        f"SELECT {_LIST_COLUMNS} FROM complaints {where}"
        f" ORDER BY {expression} {direction}, reference {direction}"
        f" LIMIT ${len(args)}"
    )
    return [_to_record(row) for row in await db.fetch(sql, *args)]
