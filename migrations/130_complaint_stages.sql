-- Facts per stage for reports (issue 13): one row per complaint and stage, written with every event by the
-- record activity (domain/facts.py builds them) and by `complaints rebuild-read-model`. Local dates of the
-- council. policy_id and service_area are copied from the case so report queries read this table only.
CREATE TABLE complaint_stages (
    reference                  text NOT NULL REFERENCES complaints (reference),
    stage                      smallint NOT NULL,
    policy_id                  text NOT NULL,
    service_area               text NOT NULL,
    received_on                date NOT NULL,
    day_zero                   date NOT NULL,
    acknowledge_by             date NOT NULL,
    acknowledged_on            date,
    original_respond_by        date NOT NULL,
    respond_by                 date NOT NULL,
    respond_by_when_answered   date,
    responded_on               date,
    working_days_to_respond    integer,
    closed_on                  date,
    ended                      text,       -- declined | withdrawn | closed | escalation_refused
    outcome                    text,
    exclusion                  text,       -- the policy's exclusion code, when declined
    extensions                 smallint NOT NULL DEFAULT 0,
    extension_working_days     integer NOT NULL DEFAULT 0,
    extended_with_agreement    boolean NOT NULL DEFAULT false,
    clock_stops                smallint NOT NULL DEFAULT 0,
    clock_stopped_working_days integer NOT NULL DEFAULT 0,
    remedies                   jsonb NOT NULL DEFAULT '[]',  -- [{kind, amount_pence}]
    remedy_count               smallint NOT NULL DEFAULT 0,
    compensation_pence         bigint NOT NULL DEFAULT 0,
    independent_reviewer       boolean,    -- Stage 2 answered by someone other than Stage 1's responder
    -- Complaint-wide facts (promised actions, the ombudsman) as of this stage's last event: a complaint's
    -- latest stage row has them up to date (reports read that one), so reports never join the wide case row.
    actions_promised           integer NOT NULL DEFAULT 0,
    actions_done               integer NOT NULL DEFAULT 0,
    actions_overdue            integer NOT NULL DEFAULT 0,
    ombudsman_referred_on      date,
    ombudsman_decided_on       date,
    ombudsman_decision         text,
    last_seq                   integer NOT NULL,
    PRIMARY KEY (reference, stage)
);
-- Reports select by stage and date of receipt, optionally by council and service area.
CREATE INDEX complaint_stages_received_idx ON complaint_stages (stage, received_on);
CREATE INDEX complaint_stages_policy_idx ON complaint_stages (policy_id, stage, received_on);
