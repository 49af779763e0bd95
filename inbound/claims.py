"""Settling the triage claims whose request died (migration 350). An officer's decision that has an effect
(a complaint opened from the message, the message joined to a complaint, a next-stage request recorded)
claims the item first and finishes the claim in the transaction that keeps the effect's last step
(inbound/triage.py). A process that dies in between leaves the item `claimed`; once its lease is past, the
sweep looks for the effect on the complaint:

    opened               the complaint the message's intake key opened exists -> finished (files stored)
    escalation_recorded  the complaint has that officer's request_escalation
                         event, received when the message arrived             -> finished (files stored)
    linked               (finished in the transaction that stores the files:
                         a lapsed claim did nothing)                          -> released
    otherwise                                                                 -> released: back in the queue

An item released after an open decision began (its intake key took a reference) can then only be opened again,
which finishes that same complaint; any other decision on it is refused and finishes it instead if the
complaint exists (inbound/triage.py `_not_decided`), so no complaint is left without its e-mail.

What a held submission's sender sent during the claim goes with the item: to the complaint it opened, or
back onto the item released (inbound/held_later.py). Either way the item is never left decided with nothing
done, and each settlement is audited
(`triage_claim_finished`, `triage_claim_released`) with the officer and the message's id only."""

from __future__ import annotations

import logging

from core.services import Services
from inbound import held_later
from inbound.store import InboundRepository, LapsedClaim
from inbound.triage import finish_escalation, finish_opened
from store.audit import AuditRepository
from store.complaints import ComplaintRepository, NotFound

log = logging.getLogger(__name__)
SWEEP = "inbound-sweep"


async def _escalation_recorded(services: Services, claim: LapsedClaim) -> bool:
    if claim.claim_reference is None:
        return False
    found = await services.pool.fetchval(
        "SELECT 1 FROM complaint_events WHERE reference = $1 AND action = 'request_escalation'"
        " AND actor_id = $2 AND (detail ->> 'received_at')::timestamptz = $3",
        claim.claim_reference,
        claim.decided_by,
        claim.received_at,
    )
    return found is not None


async def settle_claim(services: Services, claim: LapsedClaim) -> str:
    """Finish or release one lapsed claim; returns what became of the item."""
    repository = InboundRepository(services.pool)
    message = await repository.get(claim.id)
    if message is None or message.status != "claimed":
        return "gone"
    request_id = f"{SWEEP}:{claim.id}"
    # Finished by the sweep (the audit row's actor), as the officer decided (`decided_by` in its facts).
    actor, role = SWEEP, "system"
    if claim.claimed_as == "opened":
        begun = await repository.open_begun(claim.id)
        if begun is not None and begun.opened:
            await finish_opened(services, message, begun.reference, actor, role, request_id, claim.claim_id,
                                decided_by=claim.decided_by)  # fmt: skip
            await held_later.settle_quietly(services, claim.id)
            return "opened"
    elif claim.claimed_as == "escalation_recorded" and await _escalation_recorded(services, claim):
        assert claim.claim_reference is not None
        try:
            record = await ComplaintRepository(services.pool).get(reference=claim.claim_reference)
        except NotFound:
            record = None
        if record is not None:
            await finish_escalation(services, message, record, actor, role, request_id, claim.claim_id,
                                    decided_by=claim.decided_by)  # fmt: skip
            await held_later.settle_quietly(services, claim.id)
            return "escalation_recorded"
    if await held_later.release_claim(services, claim.id, claim.claim_id):
        await AuditRepository(services.pool).append(
            actor_id=SWEEP,
            actor_role="system",
            action="triage_claim_released",
            reference=None,
            request_id=request_id,
            after={
                "inbound_id": str(claim.id),
                "claimed_as": claim.claimed_as,
                "decided_by": claim.decided_by,
            },
        )
        log.warning("triage item %s: a lapsed %s claim released to the queue", claim.id, claim.claimed_as)
        return "triage"
    return "gone"


async def settle_lapsed_claims(services: Services) -> int:
    """Every claim past its lease, finished or released; returns how many were taken."""
    lapsed = await InboundRepository(services.pool).lapsed_claims()
    for claim in lapsed:
        try:
            outcome = await settle_claim(services, claim)
            log.info("triage item %s: lapsed claim settled (%s)", claim.id, outcome)
        except Exception as error:
            log.warning("triage item %s: lapsed claim not settled (%s)", claim.id, type(error).__name__)
    return len(lapsed)
