"""The append-only audit log: who did or read what, when, with the request id and before/after."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from store.complaints import Executor


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor_id: str
    actor_role: str
    action: str
    reference: str | None
    request_id: str | None
    before: Any
    after: Any


class AuditRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def append(
        self,
        *,
        actor_id: str,
        actor_role: str,
        action: str,
        reference: str | None,
        request_id: str | None,
        before: Any = None,
        after: Any = None,
    ) -> None:
        await self._db.execute(
            "INSERT INTO audit_log (actor_id, actor_role, action, reference, request_id, before, after)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)"
            # A retry of the same request (same Idempotency-Key: see api/deps.py) is recorded once.
            " ON CONFLICT (actor_id, action, reference, request_id)"
            " WHERE request_id LIKE 'idem:%' DO NOTHING",
            actor_id,
            actor_role,
            action,
            reference,
            request_id,
            _jsonable(before),
            _jsonable(after),
        )

    async def for_complaint(self, *, reference: str) -> list[AuditEntry]:
        rows = await self._db.fetch("SELECT * FROM audit_log WHERE reference = $1 ORDER BY id", reference)
        return [AuditEntry.model_validate(dict(row)) for row in rows]


def _jsonable(value: Any) -> Any:
    return None if value is None else json.loads(json.dumps(value, default=str))
