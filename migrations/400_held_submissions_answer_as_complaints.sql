-- Issue 29 (point 11): a submission held in triage for a contact restriction (migration 290) is answered as
-- any complaint is, and its reference and access code now open what any freshly received complaint shows, so
-- the public form tells no one who is restricted. What that view needs (the council, the area, the dates the
-- policy gives, the words sent) is kept here until an officer decides the triage item; it goes with the
-- inbound message (the retention purge of the message clears it).
CREATE TABLE held_submissions (
    reference        text PRIMARY KEY,
    inbound_id       uuid NOT NULL UNIQUE REFERENCES inbound_messages (id) ON DELETE CASCADE,
    policy_id        text NOT NULL,
    service_area     text NOT NULL,
    received_at      timestamptz NOT NULL,
    acknowledge_by   date,
    respond_by       date,
    complainant      jsonb NOT NULL,   -- the name and adjustments given on the form (personal data)
    representative   jsonb,
    summary          text NOT NULL,
    desired_outcome  text NOT NULL DEFAULT '',
    tenure           text,
    withdrawn_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- The held reference's credentials (its access code, page sessions) are residents' credentials like any
-- other, stored as hashes in resident_tokens; there is no case row behind them until an officer opens the
-- complaint under the same reference, when they open the complaint itself.
ALTER TABLE resident_tokens DROP CONSTRAINT IF EXISTS resident_tokens_reference_fkey;

-- Its e-mails (the copy of the complaint and the access link, as any complaint made online sends) wait in
-- the outbox without a case reference, under the council's policy (as migration 140 allows); the held
-- reference is in their context. An officer opening the complaint moves them to it (inbound/triage.py).
CREATE INDEX notifications_held_idx ON notifications ((context->>'reference'), created_at)
    WHERE reference IS NULL AND audience = 'complainant';

-- When the held item goes (the retention purge of its message), its e-mails and its credentials go with it,
-- unless a complaint was opened under the reference (then they are the complaint's, purged with it).
CREATE FUNCTION held_submission_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM notifications
    WHERE reference IS NULL AND audience = 'complainant' AND context->>'reference' = OLD.reference;
    IF NOT EXISTS (SELECT 1 FROM complaints WHERE reference = OLD.reference) THEN
        DELETE FROM resident_tokens WHERE reference = OLD.reference;
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER held_submissions_gone AFTER DELETE ON held_submissions
    FOR EACH ROW EXECUTE FUNCTION held_submission_gone();
