"""Submissions held in triage for a contact restriction, as their resident sees them (migration 400): raw SQL.

A held submission is an inbound message of source `web` (migration 290); this row keeps what its reference
shows until an officer decides the item (`decision`: the inbound message's status)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from store.complaints import Executor


class HeldSubmission(BaseModel):
    reference: str
    inbound_id: uuid.UUID
    policy_id: str
    service_area: str
    received_at: datetime
    acknowledge_by: date | None
    respond_by: date | None
    complainant: dict[str, Any]
    representative: dict[str, Any] | None
    summary: str
    desired_outcome: str
    tenure: str | None
    withdrawn_at: datetime | None
    created_at: datetime
    decision: str  # the triage item's status: triage or claimed (undecided), opened, dismissed, ...
    attachments: list[dict[str, Any]]
    # Files sent while an officer's decision holds the item (migration 440): not on the item yet.
    files_waiting: list[dict[str, Any]] = []

    @property
    def undecided(self) -> bool:
        return self.decision in ("triage", "claimed")


class HeldDates(BaseModel):
    """The dates a held submission's sender was told (the acknowledgement, or an early-resolution step's
    last day), while the item waits for an officer's decision."""

    reference: str
    inbound_id: uuid.UUID
    policy_id: str
    service_area: str
    acknowledge_by: date | None
    respond_by: date | None

    @property
    def told(self) -> date | None:
        """The date the council owes the sender something by: the acknowledgement, or the resolution."""
        return self.acknowledge_by or self.respond_by


_UNDECIDED_DATES = """
SELECT h.reference, h.inbound_id, h.policy_id, h.service_area, h.acknowledge_by, h.respond_by
FROM held_submissions h JOIN inbound_messages m ON m.id = h.inbound_id
WHERE m.status IN ('triage', 'claimed') AND h.withdrawn_at IS NULL
"""


class SentFile(BaseModel):
    """A file sent on a held reference, checked as any upload is: its name, type, content, and its entry in
    the item's list of files (`evidence_of` reads it)."""

    filename: str
    content_type: str
    content: bytes
    attachment: dict[str, Any]


class SentDuringDecision(BaseModel):
    """Information (`text` as the item takes it, `summary` as sent) or a file (`file`) sent while an
    officer's decision held the item (migration 440)."""

    seq: int
    inbound_id: uuid.UUID
    sent_at: datetime
    text: str | None
    summary: str | None
    file: SentFile | None


def _sent(row: Any) -> SentDuringDecision:
    attachment = row["attachment"]
    if isinstance(attachment, str):
        attachment = json.loads(attachment)
    file = None
    if row["content"] is not None:
        file = SentFile(
            filename=row["filename"],
            content_type=row["content_type"],
            content=bytes(row["content"]),
            attachment=attachment or {},
        )
    return SentDuringDecision(
        seq=row["seq"],
        inbound_id=row["inbound_id"],
        sent_at=row["sent_at"],
        text=row["text"],
        summary=row["summary"],
        file=file,
    )


_SELECT = """
SELECT h.reference, h.inbound_id, h.policy_id, h.service_area, h.received_at, h.acknowledge_by, h.respond_by,
       h.complainant, h.representative, h.summary, h.desired_outcome, h.tenure, h.withdrawn_at, h.created_at,
       m.status AS decision, m.attachments,
       (SELECT coalesce(jsonb_agg(s.attachment ORDER BY s.seq), '[]'::jsonb) FROM held_sent_during_decision s
        WHERE s.inbound_id = h.inbound_id AND s.attachment IS NOT NULL) AS files_waiting
FROM held_submissions h JOIN inbound_messages m ON m.id = h.inbound_id
WHERE h.reference = $1
"""


def _held(row: Any) -> HeldSubmission:
    values = dict(row)
    for name in ("complainant", "representative", "attachments", "files_waiting"):
        if isinstance(values.get(name), str):  # a JSON text (inbound describe() stores the list so)
            values[name] = json.loads(values[name])
    values["attachments"] = values.get("attachments") or []
    return HeldSubmission.model_validate(values)


class HeldSubmissionRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def add(
        self,
        *,
        reference: str,
        inbound_id: uuid.UUID,
        policy_id: str,
        service_area: str,
        received_at: datetime,
        acknowledge_by: date | None,
        respond_by: date | None,
        complainant: dict[str, Any],
        representative: dict[str, Any] | None,
        summary: str,
        desired_outcome: str,
        tenure: str | None,
    ) -> None:
        """Once per reference: a retried submission adds nothing."""
        await self._db.execute(
            "INSERT INTO held_submissions (reference, inbound_id, policy_id, service_area, received_at,"
            " acknowledge_by, respond_by, complainant, representative, summary, desired_outcome, tenure)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12)"
            " ON CONFLICT (reference) DO NOTHING",
            reference,
            inbound_id,
            policy_id,
            service_area,
            received_at,
            acknowledge_by,
            respond_by,
            complainant,
            representative,
            summary,
            desired_outcome,
            tenure,
        )

    async def get(self, reference: str) -> HeldSubmission | None:
        row = await self._db.fetchrow(_SELECT, reference)
        return None if row is None else _held(row)

    async def add_to_item(
        self,
        inbound_id: uuid.UUID,
        *,
        text: str,
        raw: bytes | None = None,
        attachment: dict[str, Any] | None = None,
        waiting_only: bool = True,
    ) -> bool:
        """What the resident sent later, kept with the triage item while it waits (its text appended, a
        file added to the message and its list); False once the item was decided (or is being decided).
        `waiting_only=False`: what waited during a decision, put back on the item that decision left
        (inbound/held_later.py)."""
        status = await self._db.execute(
            "UPDATE inbound_messages SET text = coalesce(text, '') || $2,"
            " raw = coalesce($3, raw), size = coalesce(octet_length($3), size),"
            # describe() stores the list as a JSON text (the pool's codec); read either form.
            " attachments = (CASE jsonb_typeof(attachments) WHEN 'string' THEN (attachments #>> '{}')::jsonb"
            " ELSE attachments END) || $4::jsonb"
            " WHERE id = $1 AND (status = 'triage' OR NOT $5)",
            inbound_id,
            text,
            raw,
            [] if attachment is None else [attachment],
            waiting_only,
        )
        return status.split()[-1] == "1"

    async def undecided_dates(self, inbound_ids: list[uuid.UUID]) -> dict[uuid.UUID, HeldDates]:
        """The told dates of those of these triage items that are held submissions still owed them (not
        withdrawn by their sender)."""
        rows = await self._db.fetch(_UNDECIDED_DATES + " AND h.inbound_id = ANY($1::uuid[])", inbound_ids)
        return {row["inbound_id"]: HeldDates.model_validate(dict(row)) for row in rows}

    async def undecided_told_by(self, last_day: date) -> list[HeldDates]:
        """Held submissions still undecided whose told date is `last_day` or earlier, earliest first (the
        overdue digest, the nightly reconciliation)."""
        rows = await self._db.fetch(
            _UNDECIDED_DATES + " AND coalesce(h.acknowledge_by, h.respond_by) <= $1"
            " ORDER BY coalesce(h.acknowledge_by, h.respond_by), h.reference",
            last_day,
        )
        return [HeldDates.model_validate(dict(row)) for row in rows]

    async def item_status(self, inbound_id: uuid.UUID) -> str | None:
        """The triage item's status, its row locked until the caller's transaction ends: an officer's claim
        and the step that finishes it come wholly before or after what the resident sends."""
        found = await self._db.fetchval(
            "SELECT status FROM inbound_messages WHERE id = $1 FOR UPDATE", inbound_id
        )
        return None if found is None else str(found)

    async def keep_sent(
        self,
        inbound_id: uuid.UUID,
        *,
        text: str | None = None,
        summary: str | None = None,
        file: SentFile | None = None,
    ) -> None:
        """What the resident sent while an officer's decision holds the item (migration 440)."""
        await self._db.execute(
            "INSERT INTO held_sent_during_decision"
            " (inbound_id, text, summary, filename, content_type, content, attachment)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
            inbound_id,
            text,
            summary,
            None if file is None else file.filename,
            None if file is None else file.content_type,
            None if file is None else file.content,
            None if file is None else file.attachment,
        )

    async def sent_during_decision(self, inbound_id: uuid.UUID) -> list[SentDuringDecision]:
        rows = await self._db.fetch(
            "SELECT * FROM held_sent_during_decision WHERE inbound_id = $1 ORDER BY seq", inbound_id
        )
        return [_sent(row) for row in rows]

    async def take_sent(self, seq: int) -> bool:
        """Remove one once it reached where it goes (in that transaction); False if another took it."""
        status = await self._db.execute("DELETE FROM held_sent_during_decision WHERE seq = $1", seq)
        return status.split()[-1] == "1"

    async def items_with_sent_left(self, *, limit: int = 100) -> list[uuid.UUID]:
        """Items no decision holds any more with something sent meanwhile not yet moved (a request that
        died after its decision ended): the inbound sweep moves it."""
        rows = await self._db.fetch(
            "SELECT DISTINCT s.inbound_id FROM held_sent_during_decision s"
            " JOIN inbound_messages m ON m.id = s.inbound_id WHERE m.status <> 'claimed' LIMIT $1",
            limit,
        )
        return [uuid.UUID(str(row["inbound_id"])) for row in rows]

    async def plan(self, reference: str, *, acknowledge_by: date, respond_by: date) -> None:
        """Stage 1's dates, planned when the resident asks for an investigation (early resolution ends)."""
        await self._db.execute(
            "UPDATE held_submissions SET acknowledge_by = $2, respond_by = $3 WHERE reference = $1",
            reference,
            acknowledge_by,
            respond_by,
        )

    async def open_begins(self, inbound_id: uuid.UUID) -> None:
        """An officer's open decision begins on the item (if it is a held submission's): from now on its
        intake key means that complaint (inbound/store.py `_NO_OPEN_BEGUN`)."""
        await self._db.execute(
            "UPDATE held_submissions SET open_begun_at = coalesce(open_begun_at, now())"
            " WHERE inbound_id = $1",
            inbound_id,
        )

    async def withdrawn_before_open(self, inbound_id: uuid.UUID) -> bool:
        """Whether the item is a held submission its sender withdrew online before any open decision began
        on it (one that began first is finished: the officer sees the withdrawal on the item)."""
        found = await self._db.fetchval(
            "SELECT 1 FROM held_submissions WHERE inbound_id = $1 AND withdrawn_at IS NOT NULL"
            " AND open_begun_at IS NULL",
            inbound_id,
        )
        return found is not None

    async def withdraw(self, reference: str) -> None:
        await self._db.execute(
            "UPDATE held_submissions SET withdrawn_at = coalesce(withdrawn_at, now()) WHERE reference = $1",
            reference,
        )
