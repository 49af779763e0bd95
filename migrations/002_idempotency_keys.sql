-- Idempotency-Key on every POST: the first request with a key acts, later ones get its stored answer.
CREATE TABLE idempotency_keys (
    staff_id      text NOT NULL,
    key           text NOT NULL,
    fingerprint   text NOT NULL,
    status_code   integer,
    response      jsonb,
    headers       jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (staff_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
