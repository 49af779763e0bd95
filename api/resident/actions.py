"""A resident's actions on their complaint: the workflow's own Updates, sent with a resident actor, so the
workflow decides (and explains) what is possible: a refusal is a 409 problem carrying the workflow's reason.
Messages and files sent online are limited per complaint per day."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile

from api.attachments import store_upload
from api.errors import ProblemError
from api.resident import held_actions
from api.resident.access import RESIDENT_ROLE, ResidentAccess, access_again, limiter
from api.resident.bodies import EscalationBody, ExtensionAnswerBody, InformationBody, WithdrawBody
from api.resident.ratelimit import TooMany
from api.resident.restrictions import refuse_if_restricted
from api.updates import run_action
from core.services import Services
from domain import commands as cmd
from domain.models import ResidentChannel
from store.attachments import AttachmentInfo
from store.audit import AuditRepository, event_key
from store.complaints import ComplaintRecord, ComplaintRepository
from store.resident_access import ResidentAccessRepository


async def _refuse_if_restricted(services: Services, access: ResidentAccess, channel: ResidentChannel) -> None:
    record = access.record
    await refuse_if_restricted(
        services,
        channel,
        policy_id=record.policy_id,
        reference=record.reference,
        email=record.complainant.get("email"),
    )


async def act(
    services: Services,
    access: ResidentAccess,
    action: str,
    command: cmd.Command,
    request_id: str,
    request: dict[str, Any],
) -> ComplaintRecord:
    """Run one resident action as the workflow's Update; a refusal is a 409 problem with its reason."""
    before = access.record
    receipt = await run_action(action, command, before, services.temporal, pool=services.pool)
    after = await ComplaintRepository(services.pool).get(reference=before.reference)
    await AuditRepository(services.pool).append(
        actor_id="resident",
        actor_role=RESIDENT_ROLE,
        action=action,
        reference=before.reference,
        request_id=request_id,
        before={"status": before.status, "stage": before.stage, "seq": before.last_seq},
        after={"status": after.status, "stage": after.stage, "seq": after.last_seq, "request": request},
        once_key=event_key(before.reference, action, receipt.seq),
    )
    return after


_MESSAGES_LIMITED = """
INSERT INTO notifications (id, reference, workflow_id, seq, template, audience, recipient, context)
VALUES ($1, $2, $3, -1, 'messages_limited', 'staff', $4, $5)
ON CONFLICT (id) DO NOTHING
"""


async def _within_daily_limit(services: Services, access: ResidentAccess) -> None:
    """Messages and files sent online per complaint per day (RESIDENT_MESSAGES_PER_DAY): past it, 429 with
    Retry-After; the officer is told once that day (one outbox message, keyed by the day), not per refusal."""
    record = access.record
    try:
        await limiter(services).resident_wrote(reference=record.reference)
    except TooMany as refused:
        if refused.first and access.held is None:  # a held submission's officer sees it on the item
            day = (await ResidentAccessRepository(services.pool).now()).date().isoformat()
            context = {
                "reference": record.reference,
                "stage": record.stage,
                "allowed": services.settings.resident_messages_per_day,
            }
            await services.pool.execute(
                _MESSAGES_LIMITED,
                f"messages-limited:{record.reference}:{day}",
                record.reference,
                record.workflow_id,
                record.assigned_to or "complaints-team",
                context,
            )
        raise


async def send_information(
    services: Services, access: ResidentAccess, body: InformationBody, request_id: str
) -> ComplaintRecord:
    if access.held is not None:
        # Never refused for the restriction: that would tell whoever holds the code (issue 29).
        await _within_daily_limit(services, access)
        if await held_actions.send_information(services, access, body.summary, request_id):
            return access.record
        # An officer opened a complaint from it meanwhile: sent to that complaint, as to any.
        access = await access_again(services, access)
        await _refuse_if_restricted(services, access, ResidentChannel.MESSAGES)
    else:
        await _refuse_if_restricted(services, access, ResidentChannel.MESSAGES)
        await _within_daily_limit(services, access)
    command = cmd.AddInformation(actor=access.actor, summary=body.summary)
    return await act(services, access, "add_information", command, request_id, {"length": len(body.summary)})


async def answer_extension(
    services: Services, access: ResidentAccess, body: ExtensionAnswerBody, request_id: str
) -> ComplaintRecord:
    if body.agreed and body.up_to is None:
        raise ProblemError(422, "Invalid request", "up_to: the latest date you agree to is needed")
    if access.held is not None:
        held_actions.refuse_as_received("record_extension_agreement", access)
    command = cmd.RecordExtensionAgreement(actor=access.actor, agreed=body.agreed, up_to=body.up_to)
    return await act(
        services, access, "record_extension_agreement", command, request_id, body.model_dump(mode="json")
    )


async def ask_for_review(
    services: Services, access: ResidentAccess, body: EscalationBody, request_id: str
) -> ComplaintRecord:
    command = cmd.RequestEscalation(
        actor=access.actor, reasons=body.reasons, outcome_wanted=body.outcome_wanted
    )
    if access.held is not None:
        held_actions.refuse_as_received("request_escalation", access)
    detail = {"stage": access.record.stage}
    return await act(services, access, "request_escalation", command, request_id, detail)


async def withdraw(
    services: Services, access: ResidentAccess, body: WithdrawBody, request_id: str
) -> ComplaintRecord:
    if access.held is not None:
        await held_actions.withdraw(services, access, body.reason, request_id)
        return access.record
    command = cmd.Withdraw(actor=access.actor, reason=body.reason)
    return await act(services, access, "withdraw", command, request_id, {})


async def send_evidence(
    services: Services, access: ResidentAccess, upload: UploadFile, request_id: str
) -> AttachmentInfo:
    """A file the resident sends as evidence: stored with the complaint and audited (hash and size only)."""
    if access.held is not None:
        await _within_daily_limit(services, access)
        kept = await held_actions.send_evidence(services, access, upload, request_id)
        if kept is not None:
            return kept
        # An officer opened a complaint from it meanwhile: stored with that complaint, as with any.
        access = await access_again(services, access)
        await _refuse_if_restricted(services, access, ResidentChannel.EVIDENCE)
        await upload.seek(0)
    else:
        await _refuse_if_restricted(services, access, ResidentChannel.EVIDENCE)
        await _within_daily_limit(services, access)
    return await store_upload(
        services.pool,
        reference=access.record.reference,
        upload=upload,
        settings=services.settings,
        actor_id="resident",
        actor_role=RESIDENT_ROLE,
        request_id=request_id,
    )
