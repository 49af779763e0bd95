-- Inbound e-mail (inbound/): every message received over SMTP or polled over IMAP, stored raw once, keyed by
-- its Message-ID (a redelivery or a re-poll adds nothing), and what became of it. The raw message, the sender,
-- the subject and the text are personal data: a message routed or linked to a complaint is destroyed with the
-- complaint's personal data (store.retention), any other once INBOUND_RETENTION_DAYS have passed after it was
-- decided (inbound.store.purge_unlinked).
--
-- kind:   message | auto_reply (RFC 3834 and out-of-office: dropped) | bounce (a delivery status notification)
-- status: received (stored, not yet routed: the sweep retries it) | routing (evidence stored, the signal to
--         the complaint not yet sent) | routed (reached its complaint) | triage (waits for an officer) |
--         dropped (an automatic reply) | bounce_recorded | opened (an officer opened a complaint from it) |
--         linked (an officer joined it to a complaint) | escalation_recorded | service_request | dismissed
-- flag:   why a message with a reference waits in triage: sender_mismatch, unknown_reference,
--         contact_restricted, next_stage_request; over_limit: past a limit, kept unprocessed.
CREATE TABLE inbound_messages (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id      text NOT NULL UNIQUE,
    source          text NOT NULL CHECK (source IN ('smtp', 'imap')),
    received_at     timestamptz NOT NULL,
    recipients      text[] NOT NULL DEFAULT '{}',
    raw             bytea,
    size            integer NOT NULL,
    sender          text,
    sender_key      text NOT NULL,
    subject         text,
    text            text,
    attachments     jsonb NOT NULL DEFAULT '[]'::jsonb,
    kind            text NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'auto_reply', 'bounce')),
    status          text NOT NULL DEFAULT 'received' CHECK (status IN (
                        'received', 'routing', 'routed', 'triage', 'dropped', 'bounce_recorded', 'opened',
                        'linked', 'escalation_recorded', 'service_request', 'dismissed')),
    flag            text,
    reference       text REFERENCES complaints (reference),
    candidate       text,
    decided_by      text,
    decided_at      timestamptz,
    decision_reason text,
    processed_at    timestamptz
);
-- The triage queue, oldest first; the sweep's unfinished messages; the per-sender hourly limit (a keyed hash
-- of the address, so the count needs no address in clear); the purge of decided messages of no complaint.
CREATE INDEX inbound_messages_triage_idx ON inbound_messages (received_at) WHERE status = 'triage';
CREATE INDEX inbound_messages_unfinished_idx ON inbound_messages (received_at)
    WHERE status IN ('received', 'routing');
CREATE INDEX inbound_messages_sender_idx ON inbound_messages (sender_key, received_at);
CREATE INDEX inbound_messages_reference_idx ON inbound_messages (reference) WHERE reference IS NOT NULL;

-- The register of service requests: a message that asks for a service (a repair, a missed bin) rather than
-- complaining about one, as the Complaint Handling Code tells them apart. A simple status; counted in the
-- reports (GET /api/reports/service-requests).
CREATE TABLE service_requests (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    inbound_id      uuid UNIQUE REFERENCES inbound_messages (id) ON DELETE SET NULL,
    policy_id       text NOT NULL,
    service_area    text NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'passed_on', 'done')),
    received_at     timestamptz NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX service_requests_received_idx ON service_requests (policy_id, received_at);

-- A letter that bounced: the delivery status notification that answered it, when it came.
ALTER TABLE notifications ADD COLUMN bounced_at timestamptz;
