-- The reference a logged complaint was given, by the Idempotency-Key of the request that logged it: a retry
-- of a request whose answer was lost (an outage, a timeout) opens the same complaint, never a second one.
CREATE TABLE intake_keys (
    owner       text NOT NULL,
    key         text NOT NULL,
    reference   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, key)
);
CREATE INDEX intake_keys_created_idx ON intake_keys (created_at);
