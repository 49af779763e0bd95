-- Residents' access to their own complaint: access tokens (one complaint each) and the failed-guess counters
-- that rate-limit token guessing (api/resident/, store/resident_access.py).

-- The token itself is never stored: only its SHA-256 (hex). A token opens one complaint only, expires, and
-- can be revoked; a new one can be e-mailed to the complainant (older ones stay valid until they expire).
CREATE TABLE resident_tokens (
    id            bigserial PRIMARY KEY,
    reference     text NOT NULL REFERENCES complaints (reference),
    token_hash    text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX resident_tokens_reference_idx ON resident_tokens (reference);

-- Failed token guesses per key (client address `ip:<addr>` or complaint `ref:<reference>`) per fixed window.
CREATE TABLE token_guesses (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL DEFAULT 0,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX token_guesses_window_idx ON token_guesses (window_start);
