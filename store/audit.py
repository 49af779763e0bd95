"""The append-only audit log: who did or read what, when, with the request id and which fields changed.

The audit trail outlives every complaint (a trigger refuses updates and deletes, and the retention purge
leaves it alone), so it must never hold the resident's personal data. Everything written through here is
redacted first (`redact`): structure, numbers, booleans, dates and the values of fields known to be codes
(status, stage, outcome, service area, staff ids...) are kept; every other piece of text is replaced by its
length and a keyed hash (HMAC-SHA256 with AUDIT_HMAC_KEY, truncated), so an auditor can tell that a field
changed, and whether two requests carried the same text, without being able to read it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from core.settings import get_settings
from store.complaints import Executor
from store.staff import StaffUser

# Fields whose text values are codes, dates or staff ids, never a resident's words: kept as they are.
CODE_FIELDS = frozenset(
    {
        "action_id",
        "agreed",
        "anonymous",
        "assignee",
        "assignee_role",
        "audience",
        "body",
        "channel",
        "consent_recorded",
        "decided_by",  # a staff id (as assignee): whose triage decision the sweep finished (inbound/)
        "due_on",
        "exclusion_code",
        "finished_instead_of",  # a triage decision refused: the message had opened a complaint (inbound/)
        "flag",  # why an inbound e-mail waits in triage (inbound/)
        "inbound_id",  # an inbound e-mail's id (inbound/): a uuid, never its content
        "kind",
        "namespace",
        "new_respond_by",
        "notification_id",
        "outcome",
        "owner",
        "policy_id",
        "received_at",
        "related_to",
        "review_on",
        "role",
        "seq",
        "service_area",
        "sha256",  # a file's digest (attachments): identifies the file, tells nothing of it
        "size",
        "content_type",
        "determination",  # the ombudsman's, from its vocabulary (domain/ombudsman_decisions.py)
        "section",  # of the annual report (reporting/annual_sections.py)
        "stage",
        "staff_complained_about",
        "status",
        "template",
        "tenure",
        "until",
        "up_to",
    }
)
HASH_CHARS = 16


def keyed_hash(text: str, key: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()[:HASH_CHARS]


def redact(value: Any, key: str, *, field: str | None = None) -> Any:
    """`value` with every piece of free text replaced by `{"chars": n, "hmac": "..."}`."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(name): redact(item, key, field=str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item, key, field=field) for item in value]
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if field in CODE_FIELDS:
        return text
    return {"chars": len(text), "hmac": keyed_hash(text, key)}


def event_key(reference: str, action: str, seq: int) -> str:
    """The once-key of an action: the workflow event it recorded (a retry the workflow applied once answers
    the same event)."""
    return f"event:{reference}:{seq}:{action}"


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
    def __init__(self, db: Executor, *, hmac_key: str | None = None) -> None:
        self._db = db
        self._key = hmac_key or get_settings().audit_hmac_key

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
        once_key: str | None = None,
    ) -> None:
        """Record one read or change; `before` and `after` are redacted here, whatever the caller passes.

        Every call is a row, except that a row with a `once_key` already recorded is not written again. That
        key is never anything a caller chooses (a request id, an Idempotency-Key): the server derives it from
        what happened (`event_key`), so a retried action that the workflow applied once is recorded once."""
        await self._db.execute(
            "INSERT INTO audit_log"
            " (actor_id, actor_role, action, reference, request_id, before, after, once_key)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (once_key) WHERE once_key IS NOT NULL DO NOTHING",
            actor_id,
            actor_role,
            action,
            reference,
            request_id,
            self._redacted(before),
            self._redacted(after),
            once_key,
        )

    async def append_by(
        self,
        staff: StaffUser,
        action: str,
        *,
        reference: str | None,
        request_id: str | None,
        before: Any = None,
        after: Any = None,
        once_key: str | None = None,
    ) -> None:
        """`append` for a staff member's read or change: their id and role are the row's actor."""
        await self.append(
            actor_id=staff.id,
            actor_role=staff.role.value,
            action=action,
            reference=reference,
            request_id=request_id,
            before=before,
            after=after,
            once_key=once_key,
        )

    def _redacted(self, value: Any) -> Any:
        if value is None:
            return None
        return json.loads(json.dumps(redact(value, self._key), default=str))

    async def for_complaint(self, *, reference: str) -> list[AuditEntry]:
        rows = await self._db.fetch("SELECT * FROM audit_log WHERE reference = $1 ORDER BY id", reference)
        return [AuditEntry.model_validate(dict(row)) for row in rows]
