-- Issue 30: the complaint form is one question a page. The answers given so far are held here between pages,
-- keyed by the SHA-256 hash of a random secret kept in an HttpOnly cookie (never in a URL or a log line).
-- A draft lives a few hours after its last answer; expired drafts are deleted whenever a draft is written,
-- and a draft is deleted once its complaint is sent (shortly after, so that a double click still replays).
CREATE TABLE complaint_drafts (
    key_hash   text PRIMARY KEY,
    answers    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX complaint_drafts_expires_at ON complaint_drafts (expires_at);
