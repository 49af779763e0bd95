-- A request retried with the same Idempotency-Key records its audit row once: its request id is derived
-- from the key (api/deps.py), and a second row for the same staff member, action, complaint and key is
-- dropped (store/audit.py inserts with ON CONFLICT DO NOTHING).
CREATE UNIQUE INDEX audit_log_idempotent_idx ON audit_log (actor_id, action, reference, request_id)
    WHERE request_id LIKE 'idem:%';
