-- The case record, the event trail, the audit log of staff actions and reads, and the notification outbox.
-- Temporal owns the lifecycle; these tables are written by activities (idempotently) and read by the API.

CREATE SEQUENCE complaint_number_seq;

CREATE TABLE complaints (
    reference              text PRIMARY KEY,
    workflow_id            text NOT NULL UNIQUE,
    policy_id              text NOT NULL,
    stage                  smallint NOT NULL DEFAULT 1,
    status                 text NOT NULL,
    channel                text NOT NULL,
    service_area           text NOT NULL,
    complainant_name       text,
    complainant            jsonb NOT NULL,
    representative         jsonb,
    anonymous              boolean NOT NULL DEFAULT false,
    summary                text NOT NULL,
    desired_outcome        text NOT NULL DEFAULT '',
    staff_complained_about text[] NOT NULL DEFAULT '{}',
    related_to             text,
    assigned_to            text,
    received_at            timestamptz NOT NULL,
    acknowledge_by         date,
    respond_by             date,
    extension_limit_by     date,
    escalation_request_by  date,
    acknowledged_at        timestamptz,
    responded_at           timestamptz,
    closed_at              timestamptz,
    outcome                text,
    overdue                boolean NOT NULL DEFAULT false,
    next_deadline          timestamptz,
    state                  jsonb,
    last_seq               integer NOT NULL DEFAULT -1,
    created_by             text NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- One index per list filter and sort (issue: indexes behind every list filter).
CREATE INDEX complaints_policy_idx ON complaints (policy_id, received_at DESC);
CREATE INDEX complaints_status_idx ON complaints (status, stage);
CREATE INDEX complaints_service_area_idx ON complaints (service_area, received_at DESC);
CREATE INDEX complaints_assigned_idx ON complaints (assigned_to) WHERE assigned_to IS NOT NULL;
CREATE INDEX complaints_overdue_idx ON complaints (overdue) WHERE overdue;
CREATE INDEX complaints_respond_by_idx ON complaints (respond_by);
CREATE INDEX complaints_received_idx ON complaints (received_at DESC, reference DESC);
CREATE INDEX complaints_next_deadline_idx ON complaints (next_deadline);

-- Every transition of every complaint, keyed by workflow and event sequence: a retried activity or a
-- replayed workflow writes the same key, so nothing is recorded twice.
CREATE TABLE complaint_events (
    workflow_id  text NOT NULL,
    seq          integer NOT NULL,
    reference    text NOT NULL REFERENCES complaints (reference),
    at           timestamptz NOT NULL,
    action       text NOT NULL,
    actor_id     text NOT NULL,
    actor_role   text NOT NULL,
    stage        smallint NOT NULL,
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}',
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, seq)
);
CREATE INDEX complaint_events_reference_idx ON complaint_events (reference, seq);

-- Who did or read what, through the API: append-only.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    text NOT NULL,
    actor_role  text NOT NULL,
    action      text NOT NULL,
    reference   text,
    request_id  text,
    before      jsonb,
    after       jsonb
);
CREATE INDEX audit_log_reference_idx ON audit_log (reference, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Letters and emails, recorded with the event that caused them, before anything is sent.
CREATE TABLE notifications (
    id           text PRIMARY KEY,
    reference    text NOT NULL REFERENCES complaints (reference),
    workflow_id  text NOT NULL,
    seq          integer NOT NULL,
    template     text NOT NULL,
    audience     text NOT NULL,
    recipient    text,
    context      jsonb NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT 'pending',
    attempts     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX notifications_reference_idx ON notifications (reference, created_at);
CREATE INDEX notifications_pending_idx ON notifications (created_at) WHERE status = 'pending';

-- Staff users of the dev stack's token endpoint (production staff come from the identity provider).
CREATE TABLE staff_users (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    role          text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
