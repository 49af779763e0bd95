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

    @property
    def undecided(self) -> bool:
        return self.decision in ("triage", "claimed")


_SELECT = """
SELECT h.reference, h.inbound_id, h.policy_id, h.service_area, h.received_at, h.acknowledge_by, h.respond_by,
       h.complainant, h.representative, h.summary, h.desired_outcome, h.tenure, h.withdrawn_at, h.created_at,
       m.status AS decision, m.attachments
FROM held_submissions h JOIN inbound_messages m ON m.id = h.inbound_id
WHERE h.reference = $1
"""


def _held(row: Any) -> HeldSubmission:
    values = dict(row)
    for name in ("complainant", "representative", "attachments"):
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
    ) -> bool:
        """What the resident sent later, kept with the triage item while it waits (its text appended, a
        file added to the message and its list); False once the item was decided (or is being decided)."""
        status = await self._db.execute(
            "UPDATE inbound_messages SET text = coalesce(text, '') || $2,"
            " raw = coalesce($3, raw), size = coalesce(octet_length($3), size),"
            # describe() stores the list as a JSON text (the pool's codec); read either form.
            " attachments = (CASE jsonb_typeof(attachments) WHEN 'string' THEN (attachments #>> '{}')::jsonb"
            " ELSE attachments END) || $4::jsonb"
            " WHERE id = $1 AND status = 'triage'",
            inbound_id,
            text,
            raw,
            [] if attachment is None else [attachment],
        )
        return status.split()[-1] == "1"

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
