-- Issue 27 (triage): an officer's decision on a triage item is claimed before its effect (a complaint opened,
-- a message joined, a next-stage request recorded) and finished after it. A claim is a lease: the item is
-- `claimed` (out of the queue, a second officer gets 409) until `claim_expires_at`; the request that claimed
-- it finishes it (status opened / linked / escalation_recorded) or releases it on a failure it sees. A claim
-- left by a process that died in between is settled by the inbound process's sweep once the lease is past
-- (inbound/claims.py): finished when its effect is found on the complaint, otherwise back in the queue.
-- claim_id fences a claim: only the request that took it (or the sweep, once it has lapsed) may finish or
-- release it. Dismissals and service requests need no claim: each is one transaction with its audit row.
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_status_check;
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_status_check CHECK (status IN (
    'received', 'routing', 'routed', 'triage', 'claimed', 'dropped', 'bounce_recorded', 'opened',
    'linked', 'escalation_recorded', 'service_request', 'dismissed'));
ALTER TABLE inbound_messages
    ADD COLUMN claim_id uuid,
    ADD COLUMN claimed_as text CHECK (claimed_as IN ('opened', 'linked', 'escalation_recorded')),
    ADD COLUMN claim_expires_at timestamptz,
    ADD COLUMN claim_reference text;
CREATE INDEX inbound_messages_claims_idx ON inbound_messages (claim_expires_at) WHERE status = 'claimed';
