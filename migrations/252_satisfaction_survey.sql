-- The one-question satisfaction survey offered with the closure letter (issue 26): "How satisfied are you
-- with how we handled your complaint?" on a five-point scale. Anonymous like equality monitoring: an answer
-- carries no reference, only the council, the stage the complaint ended at and the day; a separate list of
-- references that answered (sharing no key with it) keeps it to one answer per complaint. Read only in
-- aggregate (the SPSO's satisfaction indicator, GET /api/reports/indicators).
CREATE TABLE satisfaction_answers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    policy_id   text NOT NULL,
    answered_on date NOT NULL,
    rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5)
);
CREATE INDEX satisfaction_answers_policy_idx ON satisfaction_answers (policy_id, answered_on);

CREATE TABLE satisfaction_answered (
    reference text PRIMARY KEY
);
