-- Messages that are about no single complaint (the managers' daily overdue digest, workflows/digest.py) sit
-- in the same outbox and are delivered the same way. They have no case reference, so the row keeps the
-- council's policy itself (its templates and wording render the message).
ALTER TABLE notifications ALTER COLUMN reference DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN policy_id text;
ALTER TABLE notifications
    ADD CONSTRAINT notifications_case_or_policy_check CHECK (reference IS NOT NULL OR policy_id IS NOT NULL);
