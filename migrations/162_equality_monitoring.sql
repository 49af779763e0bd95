-- Equality monitoring, kept apart from the case: the answers carry no reference (nothing joins them to a
-- complaint or a person), only the policy and the day they were given, and are read only in aggregate
-- (GET /api/reports/equality). A separate list of references that answered keeps it to one form per
-- complaint; the two tables share no key.
CREATE TABLE equality_monitoring (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    policy_id    text NOT NULL,
    submitted_on date NOT NULL,
    source       text NOT NULL,
    answers      jsonb NOT NULL
);
CREATE INDEX equality_monitoring_day_idx ON equality_monitoring (submitted_on, policy_id);

CREATE TABLE equality_answered (
    reference text PRIMARY KEY
);
