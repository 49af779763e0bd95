-- The staff console (web/staff/): page sessions and pending OpenID Connect sign-ins.
-- A session is known by the SHA-256 of its cookie's random secret (never the secret itself); it holds who
-- signed in (the same staff id, role and service areas the API reads from a token) and the form token every
-- POST must carry (CSRF). Idle and absolute expiry are checked on every request.
CREATE TABLE staff_sessions (
    secret_hash text PRIMARY KEY,
    staff jsonb NOT NULL,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX staff_sessions_expires_idx ON staff_sessions (expires_at);

-- The identity provider's round trip: the state's hash, the PKCE verifier and the nonce, for ten minutes.
CREATE TABLE staff_sign_ins (
    state_hash text PRIMARY KEY,
    code_verifier text NOT NULL,
    nonce text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The console's queues list open complaints by their next deadline. Each queue has a partial index in that
-- order over the open complaints (a tenth of the table or less), so a page reads 25 rows and a queue's count,
-- which stops at its first thousand rows, walks the same index (found by bench/console.py: at 200,000
-- complaints the unassigned count read every open complaint's row, 311 ms, and the due-soon count the table).
CREATE INDEX complaints_open_deadline_idx
    ON complaints ((COALESCE(next_deadline, TIMESTAMPTZ '9999-12-31 00:00:00+00')), reference)
    WHERE status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused');
CREATE INDEX complaints_open_assigned_idx
    ON complaints (assigned_to, (COALESCE(next_deadline, TIMESTAMPTZ '9999-12-31 00:00:00+00')), reference)
    WHERE status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused');
CREATE INDEX complaints_open_unassigned_idx
    ON complaints ((COALESCE(next_deadline, TIMESTAMPTZ '9999-12-31 00:00:00+00')), reference)
    WHERE assigned_to IS NULL AND status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused');
CREATE INDEX complaints_open_stage_idx
    ON complaints (stage, (COALESCE(next_deadline, TIMESTAMPTZ '9999-12-31 00:00:00+00')), reference)
    WHERE status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused');
CREATE INDEX complaints_open_status_idx
    ON complaints (status, (COALESCE(next_deadline, TIMESTAMPTZ '9999-12-31 00:00:00+00')), reference)
    WHERE status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused');
CREATE INDEX complaints_open_overdue_idx
    ON complaints ((COALESCE(next_deadline, TIMESTAMPTZ '9999-12-31 00:00:00+00')), reference)
    WHERE overdue AND status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused');
