-- Casework (issue 16): the root cause of each answered stage, so reports count the year's learning themes
-- (one of the policy's root causes: a code, never free text).
ALTER TABLE complaint_stages ADD COLUMN root_cause text;

-- Contact restrictions apply to the person, not only to the complaint they were decided on: one row per
-- deciding complaint (the latest decision replaces an earlier one), written by the record activity with the
-- restrict_contact and lift_contact_restriction events. The person is matched through the case rows'
-- complainant e-mail, so this table holds no personal data of its own and goes with its complaint.
CREATE TABLE contact_restrictions (
    reference   text PRIMARY KEY REFERENCES complaints (reference) ON DELETE CASCADE,
    channels    text[] NOT NULL,      -- domain.models.ResidentChannel values the decision closes
    until_on    date NOT NULL,
    review_on   date NOT NULL,
    decided_at  timestamptz NOT NULL,
    decided_by  text NOT NULL,
    lifted_at   timestamptz,
    lifted_by   text,
    last_seq    integer NOT NULL
);

-- Restrictions decided before this release were recorded but never applied: from now on they are, closing the
-- two online channels a restriction always meant (messages and uploads), from the latest decision on each
-- complaint whose event detail the retention purge has not cleared.
INSERT INTO contact_restrictions (reference, channels, until_on, review_on, decided_at, decided_by, last_seq)
SELECT DISTINCT ON (reference) reference, ARRAY['messages', 'evidence'], (detail ->> 'until')::date,
    (detail ->> 'review_on')::date, at, actor_id, seq
FROM complaint_events
WHERE action = 'restrict_contact' AND detail ? 'until' AND detail ? 'review_on'
ORDER BY reference, seq DESC;
