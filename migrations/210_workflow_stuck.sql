-- Complaints whose workflow keeps failing its workflow tasks (issue 23): the complaint does not move, its
-- timers do not fire. Written when the API meets one (an action that cannot be applied) and by the nightly
-- reconciliation, which also clears those that recovered. `complaints_workflow_stuck` (the API's /metrics)
-- counts the rows not cleared; deploy/alerts.yml raises an alert on it.
CREATE TABLE workflow_stuck (
    reference   text PRIMARY KEY REFERENCES complaints (reference) ON DELETE CASCADE,
    workflow_id text NOT NULL,
    attempts    integer NOT NULL,
    reason      text NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    cleared_at  timestamptz
);
CREATE INDEX workflow_stuck_open_idx ON workflow_stuck (reference) WHERE cleared_at IS NULL;
