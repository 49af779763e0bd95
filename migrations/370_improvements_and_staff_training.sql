-- Issue 26: the service improvements made from learning, and the staff awareness and training a council
-- did, as records the reports count (the SPSO's indicators 1 and 3; the Code's annual report, section 8),
-- never as totals typed by hand.

-- The improvements promised on complaints (learning.improvements at a response) and the ombudsman's orders,
-- one row per action, with the day it was done. Kept from the case row's promised actions
-- (complaints.state -> 'actions', written with every event that changes them) by the trigger below, so
-- every path that writes the case row (the record activity, the read-model rebuild) keeps it alike, and a
-- report reads a few index entries of the period, not every complaint's state.
CREATE TABLE improvement_actions (
    reference    text NOT NULL REFERENCES complaints (reference) ON DELETE CASCADE,
    action_id    text NOT NULL,
    kind         text NOT NULL,  -- domain.models.ActionKind: improvement | ombudsman_order
    policy_id    text NOT NULL,
    service_area text NOT NULL,
    received_on  date NOT NULL,  -- the complaint's local date of receipt (reports count promises by it)
    due_on       date NOT NULL,
    completed_on date,           -- the local date it was marked done (reports count what was made by it)
    -- The council's words for the change: cleared with the case's state by the retention purge.
    description  text,
    PRIMARY KEY (reference, action_id)
);
CREATE INDEX improvement_actions_completed_idx ON improvement_actions (policy_id, completed_on)
    WHERE completed_on IS NOT NULL;
CREATE INDEX improvement_actions_received_idx ON improvement_actions (policy_id, received_on);

CREATE FUNCTION keep_improvement_actions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.state -> 'actions' IS NOT DISTINCT FROM OLD.state -> 'actions'
            AND NEW.state IS NOT NULL THEN
        RETURN NULL;  -- the event changed no promised action (most events)
    END IF;
    IF NEW.state IS NULL THEN
        -- The retention purge cleared the case's state: the figures stay, the words go.
        UPDATE improvement_actions SET description = NULL WHERE reference = NEW.reference;
        RETURN NULL;
    END IF;
    INSERT INTO improvement_actions (
        reference, action_id, kind, policy_id, service_area, received_on, due_on, completed_on, description
    )
    SELECT NEW.reference, action ->> 'id', action ->> 'kind', NEW.policy_id, NEW.service_area,
        (NEW.received_at AT TIME ZONE 'Europe/London')::date, (action ->> 'due_on')::date,
        ((action ->> 'completed_at')::timestamptz AT TIME ZONE 'Europe/London')::date, action ->> 'description'
    FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(NEW.state -> 'actions') = 'array' THEN NEW.state -> 'actions' ELSE '[]' END
    ) AS action
    WHERE action ->> 'kind' IN ('improvement', 'ombudsman_order')
    ON CONFLICT (reference, action_id) DO UPDATE SET
        kind = EXCLUDED.kind, policy_id = EXCLUDED.policy_id, service_area = EXCLUDED.service_area,
        received_on = EXCLUDED.received_on, due_on = EXCLUDED.due_on, completed_on = EXCLUDED.completed_on,
        description = EXCLUDED.description;
    RETURN NULL;
END
$$;

CREATE TRIGGER complaints_improvement_actions
    AFTER INSERT OR UPDATE OF state ON complaints
    FOR EACH ROW EXECUTE FUNCTION keep_improvement_actions();

-- The complaints already recorded: their improvements and orders as the trigger would have kept them.
INSERT INTO improvement_actions (
    reference, action_id, kind, policy_id, service_area, received_on, due_on, completed_on, description
)
SELECT c.reference, action ->> 'id', action ->> 'kind', c.policy_id, c.service_area,
    (c.received_at AT TIME ZONE 'Europe/London')::date, (action ->> 'due_on')::date,
    ((action ->> 'completed_at')::timestamptz AT TIME ZONE 'Europe/London')::date, action ->> 'description'
FROM complaints c, jsonb_array_elements(c.state -> 'actions') AS action
WHERE jsonb_typeof(c.state -> 'actions') = 'array' AND action ->> 'kind' IN ('improvement', 'ombudsman_order')
ON CONFLICT DO NOTHING;

-- Staff awareness and training on complaint handling (the SPSO's indicator 3), entered by a complaints
-- manager per council: one row per session or awareness activity, audited (action staff_training_entry).
-- Council records, no resident's personal data; the topic is the council's words.
CREATE TABLE staff_training_entries (
    id            bigserial PRIMARY KEY,
    policy_id     text NOT NULL,
    held_on       date NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('training', 'awareness')),
    topic         text NOT NULL,
    staff_reached integer NOT NULL CHECK (staff_reached >= 0),
    entered_by    text NOT NULL,
    entered_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_training_entries_held_idx ON staff_training_entries (policy_id, held_on);
