-- Delivery of the notification outbox (notifications/delivery.py): exactly-once bookkeeping per message.
--
-- status: pending (waiting to be sent, or to be retried at next_attempt_at) | sending (claimed by a sender:
-- it may be on the wire now) | sent | uncertain (a sender stopped between claiming and recording: it may or
-- may not have gone out, and it is never sent again by the service; staff check) | failed (gave up; staff
-- flagged) | skipped (nothing to send by e-mail: anonymous, no address, letter preferred, channel off).
ALTER TABLE notifications
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN claimed_at      timestamptz,
    ADD COLUMN last_error      text,
    ADD COLUMN provider_id     text,
    ADD COLUMN channel         text,
    ADD COLUMN subject         text,
    ADD COLUMN to_address      text;

ALTER TABLE notifications
    ADD CONSTRAINT notifications_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'uncertain', 'failed', 'skipped'));

-- The dispatcher's two queries: due pending rows, and claims left behind by a sender that stopped.
DROP INDEX IF EXISTS notifications_pending_idx;
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_claimed_idx ON notifications (claimed_at) WHERE status = 'sending';
-- deliver_event: every message of one workflow event.
CREATE INDEX notifications_event_idx ON notifications (workflow_id, seq);

-- Staff must look at a case whose message failed or may not have gone out (see audit_log actions
-- delivery_failed / delivery_uncertain for which message).
ALTER TABLE complaints ADD COLUMN delivery_problem boolean NOT NULL DEFAULT false;
CREATE INDEX complaints_delivery_problem_idx ON complaints (delivery_problem) WHERE delivery_problem;
