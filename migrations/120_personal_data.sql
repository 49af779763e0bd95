-- Personal data (issue 12): the retention purge destroys a complaint's personal data and marks the case, and
-- the audit trail holds no personal data at all (store/audit.py redacts what it writes).

-- When the retention purge destroyed this complaint's personal data (NULL: still held). The case row keeps
-- its reference, dates, stage, status, outcome and service area, so the reports still add up.
ALTER TABLE complaints ADD COLUMN personal_data_destroyed_at timestamptz;
-- The purge's daily question: finalised complaints of a policy closed before a cutoff, not yet destroyed.
CREATE INDEX complaints_retention_idx ON complaints (policy_id, closed_at)
    WHERE closed_at IS NOT NULL AND personal_data_destroyed_at IS NULL;

-- Audit rows written before redaction carried request bodies (names, e-mails, stories). The trail is
-- append-only for the service, so this one-off rewrite replaces every piece of free text in them by its length
-- (the keyed hash cannot be computed here), exactly as store/audit.py would have recorded it.
CREATE FUNCTION audit_redact_legacy(value jsonb, field text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    result jsonb := '{}'::jsonb;
    name text;
    item jsonb;
BEGIN
    CASE jsonb_typeof(value)
    WHEN 'object' THEN
        FOR name, item IN SELECT * FROM jsonb_each(value) LOOP
            result := result || jsonb_build_object(name, audit_redact_legacy(item, name));
        END LOOP;
        RETURN result;
    WHEN 'array' THEN
        RETURN COALESCE(
            (SELECT jsonb_agg(audit_redact_legacy(element, field)) FROM jsonb_array_elements(value) element),
            '[]'::jsonb
        );
    WHEN 'string' THEN
        IF field = ANY (ARRAY[
            'action_id', 'agreed', 'anonymous', 'assignee', 'assignee_role', 'audience', 'body', 'channel',
            'consent_recorded', 'due_on', 'exclusion_code', 'kind', 'new_respond_by', 'notification_id',
            'outcome', 'owner', 'policy_id', 'received_at', 'related_to', 'review_on', 'role', 'seq',
            'service_area', 'stage', 'staff_complained_about', 'status', 'template', 'until', 'up_to'
        ]) THEN
            RETURN value;
        END IF;
        RETURN jsonb_build_object('chars', length(value #>> '{}'));
    ELSE
        RETURN value;
    END CASE;
END;
$$;

ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change;
UPDATE audit_log
SET before = audit_redact_legacy(before, NULL), after = audit_redact_legacy(after, NULL)
WHERE before IS NOT NULL OR after IS NOT NULL;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change;
DROP FUNCTION audit_redact_legacy(jsonb, text);
