-- Residents' credentials beyond the long-lived access code (issue 12, "tokens out of URLs"; issue 17):
--   access   the access code: shown once when a complaint is made, sent as a bearer token by API clients
--            or typed into the track form; never put in a link.
--   link     the one-time code of an e-mailed link: exchanged once (used_at) for a session or, by an API
--            client, for a new access code; short-lived.
--   session  the secret of a resident pages' session cookie (HttpOnly), short-lived.
-- All are stored as SHA-256 hashes only, open one complaint each, and are revoked together by staff.
ALTER TABLE resident_tokens
    ADD COLUMN kind    text NOT NULL DEFAULT 'access' CHECK (kind IN ('access', 'link', 'session')),
    ADD COLUMN used_at timestamptz;

-- token_guesses now counts every resident limit (wrong codes, complaints made, links asked for), each key
-- in fixed windows of its own length: `wrong:addr:...`, `wrong:ref:...`, `create:addr:...`, `link:email:...`.
COMMENT ON TABLE token_guesses IS 'Resident rate-limit counters per key per fixed window (api/resident/ratelimit.py)';
