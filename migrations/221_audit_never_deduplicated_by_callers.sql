-- Issue 29 (2): an audit row was dropped when a caller repeated an `idem:` request id, which any caller could
-- choose (an X-Request-ID header), so reads could be kept out of the trail. Audit rows are now deduplicated
-- only by a key the server derives from what happened (`once_key`: the workflow event an action recorded,
-- the complaint a creation opened), so a retried action that acted once is recorded once, and every other
-- request is recorded every time.
DROP INDEX IF EXISTS audit_log_idempotent_idx;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS once_key text;
CREATE UNIQUE INDEX IF NOT EXISTS audit_log_once_idx ON audit_log (once_key) WHERE once_key IS NOT NULL;
