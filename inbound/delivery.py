"""Joining a message to its complaint: its files as evidence through the same code as every upload
(api.attachments.store_upload: the same types, the same size limit, the same audit row), then its new text as
the workflow's `new_information` signal (channel `email`, the time it arrived), the path built for channels
that cannot wait for an answer: the workflow applies it by the rules of `add-information`, and records a
refusal on the case for staff."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.datastructures import Headers, UploadFile

from api.attachments import store_upload
from api.errors import ProblemError
from core.services import Services
from core.temporal import workflow_id
from domain import commands as cmd
from domain.models import Role
from inbound.parse import TEXT_LIMIT, MailFile
from inbound.store import InboundMessage, InboundRepository
from store.audit import AuditRepository
from store.complaints import ComplaintRecord

log = logging.getLogger(__name__)
RESIDENT = Role.RESIDENT.value
SIGNAL_TIMEOUT = timedelta(seconds=10)


@dataclass(frozen=True)
class Decision:
    """An officer's triage decision, audited with the delivery that carries it out."""

    action: str
    facts: dict[str, Any]


def as_upload(item: MailFile) -> UploadFile:
    """An e-mailed file as the upload the shared attachment code takes."""
    return UploadFile(
        file=io.BytesIO(item.content),
        size=len(item.content),
        filename=item.filename,
        headers=Headers({"content-type": item.content_type}),
    )


def signal_text(message: InboundMessage) -> str:
    text = (message.text or "").strip()
    if not text:
        count = len(message.attachments)
        text = f"(An e-mail with {count} attachment{'' if count == 1 else 's'} and no text.)"
    return text[:TEXT_LIMIT]


async def deliver(
    services: Services,
    inbound_id: uuid.UUID,
    record: ComplaintRecord,
    files: list[MailFile],
    *,
    actor_id: str,
    actor_role: str,
    request_id: str,
    final_status: str = "routed",
    signal: bool = True,
    claim_id: uuid.UUID | None = None,
    decision: Decision | None = None,
) -> int:
    """Store the files and mark the message `routing` in one transaction, then signal (unless `signal` is
    False: a complaint opened from the message carries its text already); returns how many files were
    refused (a type or size the uploads refuse: named in the audit row by count only).

    An officer's claimed decision (`claim_id`) is finished in that transaction, with its audit row
    (`decision`): if the claim lapsed meanwhile (inbound/claims.py settled it), nothing is kept and the
    officer gets 409."""
    refused = 0
    async with services.pool.acquire() as connection, connection.transaction():
        # A complaint the retention purge emptied has no workflow left to tell and will not be purged again:
        # the message would wait as `routing` for ever, its words kept past retention (the row locked
        # against the purge meanwhile).
        destroyed = await connection.fetchval(
            "SELECT personal_data_destroyed_at FROM complaints WHERE reference = $1 FOR SHARE",
            record.reference,
        )
        if destroyed is not None:
            raise ProblemError(
                409,
                "Not possible now",
                f"{record.reference}'s personal data was destroyed under the retention policy: nothing can"
                " be added to it any more",
                "personal-data-destroyed",
            )
        if claim_id is not None:
            kept = await InboundRepository(connection).finish_claim(
                inbound_id,
                claim_id,
                status="routing" if signal else final_status,
                reference=record.reference,
            )
            if not kept:
                raise ProblemError(
                    409,
                    "Not possible now",
                    "this message waited too long for the decision and went back to the triage queue:"
                    " open it again",
                    "claim-lapsed",
                )
        for item in files:
            try:
                await store_upload(
                    connection,
                    reference=record.reference,
                    upload=as_upload(item),
                    settings=services.settings,
                    actor_id=actor_id,
                    actor_role=actor_role,
                    request_id=request_id,
                )
            except ProblemError:
                refused += 1
        if claim_id is None:
            await InboundRepository(connection).settle(
                inbound_id, status="routing" if signal else final_status, reference=record.reference
            )
        audit = AuditRepository(connection)
        if decision is not None:
            await audit.append(
                actor_id=actor_id,
                actor_role=actor_role,
                action=decision.action,
                reference=record.reference,
                request_id=request_id,
                after={"inbound_id": str(inbound_id), **decision.facts},
            )
        await audit.append(
            actor_id=actor_id,
            actor_role=actor_role,
            action="inbound_email",
            reference=record.reference,
            request_id=request_id,
            after={
                "inbound_id": str(inbound_id),
                "channel": "email",
                "files": len(files) - refused,
                "refused": refused,
            },
        )
    if signal:
        message = await InboundRepository(services.pool).get(inbound_id)
        assert message is not None
        await send_signal(services, message)
        await InboundRepository(services.pool).settle(
            inbound_id, status=final_status, reference=record.reference
        )
    return refused


async def send_signal(services: Services, message: InboundMessage) -> None:
    """Bounded: while Temporal is unreachable the message stays `routing` and the sweep sends it later (the
    relay is not kept waiting: the message is stored already)."""
    assert message.reference is not None
    handle = services.temporal.get_workflow_handle(workflow_id(message.reference))
    signal = cmd.NewInformationSignal(
        text=signal_text(message), channel="email", received_at=message.received_at
    )
    await asyncio.wait_for(
        handle.signal("new_information", signal, rpc_timeout=SIGNAL_TIMEOUT), SIGNAL_TIMEOUT.total_seconds()
    )
