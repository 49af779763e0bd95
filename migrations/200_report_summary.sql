-- Report summaries per month of receipt (issue 13: reports in under a second at 1,000,000 complaints).
--
-- Every report figure over whole months is a sum of these additive counters, so a year's report reads a few
-- thousand rows instead of every stage row of the year. They are kept exactly in step with complaint_stages
-- by statement triggers (below), in the same transaction as each write: a write subtracts the contribution
-- of the rows as they were (the OLD transition table) and adds that of the rows as they are now (NEW), so a
-- complaint that moves between months, service areas or outcomes leaves its old group and joins the new one.
-- report_summary_rebuild() recomputes them from scratch (`complaints rebuild-read-model` calls it).
--
-- Figures that cannot be summed are kept as histograms: working days to respond (medians and 90th
-- percentiles are computed from the counts per number of days, exactly as before) and working days of
-- extension (the limit they are compared with is the policy's, given at report time).
--
-- Overdue actions are not a date computed at report time: the workflow's action timer flags an action overdue
-- the day after it was due and records the event, which rewrites the stage row (actions_overdue), and the
-- trigger moves the count. So the summaries give the same figure as the rows, as of the last event.
--
-- A group whose counters all return to zero is deleted, so a breakdown never lists a service area or
-- month without complaints (the per-row queries would not).

-- The days of a period before its first whole month and after its last are read from the stage rows.
CREATE INDEX complaint_stages_received_on_idx ON complaint_stages (received_on);

-- Per (council, month, stage, service area, outcome, exclusion): the per-stage figures.
CREATE TABLE report_stage_months (
    policy_id                          text NOT NULL,
    month                              date NOT NULL,   -- first day of the month of receipt
    stage                              smallint NOT NULL,
    service_area                       text NOT NULL,
    outcome                            text,
    exclusion                          text,
    received                           bigint NOT NULL,  -- stage rows in the group (0: the row is deleted)
    declined                           bigint NOT NULL,
    withdrawn                          bigint NOT NULL,
    acknowledged                       bigint NOT NULL,
    acknowledged_on_time               bigint NOT NULL,
    responded                          bigint NOT NULL,
    responded_on_time                  bigint NOT NULL,
    responded_within_original_deadline bigint NOT NULL,
    extended                           bigint NOT NULL,
    remedies                           bigint NOT NULL,
    compensation_pence                 bigint NOT NULL,
    independent                        bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (policy_id, month, stage, service_area, outcome, exclusion)
);
CREATE INDEX report_stage_months_empty_idx ON report_stage_months (policy_id) WHERE received = 0;
CREATE INDEX report_stage_months_month_idx ON report_stage_months (month);

-- Responses per number of working days to respond (a few dozen values per group).
CREATE TABLE report_days_months (
    policy_id    text NOT NULL,
    month        date NOT NULL,
    stage        smallint NOT NULL,
    service_area text NOT NULL,
    working_days integer NOT NULL,
    responses    bigint NOT NULL,
    PRIMARY KEY (policy_id, month, stage, service_area, working_days)
);
CREATE INDEX report_days_months_empty_idx ON report_days_months (policy_id) WHERE responses = 0;
CREATE INDEX report_days_months_month_idx ON report_days_months (month);

-- Stage rows per working days of extension and agreement (every row, so any limit >= 0 can be applied).
CREATE TABLE report_extension_months (
    policy_id               text NOT NULL,
    month                   date NOT NULL,
    stage                   smallint NOT NULL,
    service_area            text NOT NULL,
    extension_working_days  integer NOT NULL,
    extended_with_agreement boolean NOT NULL,
    complaints              bigint NOT NULL,
    PRIMARY KEY (policy_id, month, stage, service_area, extension_working_days, extended_with_agreement)
);
CREATE INDEX report_extension_months_empty_idx ON report_extension_months (policy_id) WHERE complaints = 0;
CREATE INDEX report_extension_months_month_idx ON report_extension_months (month);

-- Remedies by kind.
CREATE TABLE report_remedy_months (
    policy_id          text NOT NULL,
    month              date NOT NULL,
    stage              smallint NOT NULL,
    service_area       text NOT NULL,
    kind               text,
    remedies           bigint NOT NULL,
    compensation_pence bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (policy_id, month, stage, service_area, kind)
);
CREATE INDEX report_remedy_months_empty_idx ON report_remedy_months (policy_id) WHERE remedies = 0;
CREATE INDEX report_remedy_months_month_idx ON report_remedy_months (month);

-- Complaint-wide figures, per complaint, in the group of its Stage 1 row (as the per-row query counts them):
-- escalation to Stage 2, promised actions and the ombudsman from the complaint's latest stage row.
CREATE TABLE report_case_months (
    policy_id        text NOT NULL,
    month            date NOT NULL,
    service_area     text NOT NULL,
    decision         text,
    complaints       bigint NOT NULL,
    responded        bigint NOT NULL,
    escalated        bigint NOT NULL,
    actions_promised bigint NOT NULL,
    actions_done     bigint NOT NULL,
    actions_overdue  bigint NOT NULL,
    referrals        bigint NOT NULL,
    decisions        bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (policy_id, month, service_area, decision)
);
CREATE INDEX report_case_months_empty_idx ON report_case_months (policy_id) WHERE complaints = 0;
CREATE INDEX report_case_months_month_idx ON report_case_months (month);

-- The learning themes: answered stages per root cause (migration 180), and how many of them were upheld.
CREATE TABLE report_theme_months (
    policy_id    text NOT NULL,
    month        date NOT NULL,
    stage        smallint NOT NULL,
    service_area text NOT NULL,
    root_cause   text NOT NULL,
    responses    bigint NOT NULL,
    upheld       bigint NOT NULL,
    PRIMARY KEY (policy_id, month, stage, service_area, root_cause)
);
CREATE INDEX report_theme_months_empty_idx ON report_theme_months (policy_id) WHERE responses = 0;
CREATE INDEX report_theme_months_month_idx ON report_theme_months (month);

-- The statements that apply a change: `old_rows` and `new_rows` name sets of complaint_stages rows (the
-- trigger's transition tables, or for a rebuild nothing and the whole table). One definition of every
-- counter serves the triggers and the rebuild. Groups are written in key order, and the first statement
-- takes a lock per council (in order), so concurrent writers never deadlock on summary rows and a
-- complaint's Stage 1 and Stage 2 rows written by two transactions are summed as the second one sees them.
CREATE FUNCTION report_summary_statements(old_rows text, new_rows text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    signed text := format(
        '(SELECT -1 AS sign, o.* FROM %s AS o UNION ALL SELECT 1 AS sign, n.* FROM %s AS n)', old_rows, new_rows
    );
    month text := $$date_trunc('month', received_on)::date$$;
BEGIN
    RETURN ARRAY[
        format($$SELECT pg_advisory_xact_lock(hashtext('report_summary'), hashtext(policy_id))
                 FROM (SELECT DISTINCT policy_id FROM %s AS s ORDER BY 1) AS councils$$, signed),

        format($$INSERT INTO report_stage_months AS t
            SELECT policy_id, %s, stage, service_area, outcome, exclusion,
                sum(sign),
                sum(CASE WHEN ended = 'declined' THEN sign ELSE 0 END),
                sum(CASE WHEN ended = 'withdrawn' THEN sign ELSE 0 END),
                sum(CASE WHEN acknowledged_on IS NOT NULL THEN sign ELSE 0 END),
                sum(CASE WHEN acknowledged_on <= acknowledge_by THEN sign ELSE 0 END),
                sum(CASE WHEN responded_on IS NOT NULL THEN sign ELSE 0 END),
                sum(CASE WHEN responded_on <= respond_by_when_answered THEN sign ELSE 0 END),
                sum(CASE WHEN responded_on <= original_respond_by THEN sign ELSE 0 END),
                sum(CASE WHEN extensions > 0 THEN sign ELSE 0 END),
                sum(sign * remedy_count),
                sum(sign * compensation_pence),
                sum(CASE WHEN independent_reviewer THEN sign ELSE 0 END)
            FROM %s AS s
            GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (policy_id, month, stage, service_area, outcome, exclusion) DO UPDATE SET
                received = t.received + excluded.received, declined = t.declined + excluded.declined,
                withdrawn = t.withdrawn + excluded.withdrawn,
                acknowledged = t.acknowledged + excluded.acknowledged,
                acknowledged_on_time = t.acknowledged_on_time + excluded.acknowledged_on_time,
                responded = t.responded + excluded.responded,
                responded_on_time = t.responded_on_time + excluded.responded_on_time,
                responded_within_original_deadline
                    = t.responded_within_original_deadline + excluded.responded_within_original_deadline,
                extended = t.extended + excluded.extended, remedies = t.remedies + excluded.remedies,
                compensation_pence = t.compensation_pence + excluded.compensation_pence,
                independent = t.independent + excluded.independent$$, month, signed),
        'DELETE FROM report_stage_months WHERE received = 0',

        format($$INSERT INTO report_days_months AS t
            SELECT policy_id, %s, stage, service_area, working_days_to_respond, sum(sign)
            FROM %s AS s WHERE working_days_to_respond IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (policy_id, month, stage, service_area, working_days) DO UPDATE SET
                responses = t.responses + excluded.responses$$, month, signed),
        'DELETE FROM report_days_months WHERE responses = 0',

        format($$INSERT INTO report_extension_months AS t
            SELECT policy_id, %s, stage, service_area, extension_working_days, extended_with_agreement, sum(sign)
            FROM %s AS s
            GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (policy_id, month, stage, service_area, extension_working_days, extended_with_agreement)
            DO UPDATE SET complaints = t.complaints + excluded.complaints$$, month, signed),
        'DELETE FROM report_extension_months WHERE complaints = 0',

        format($$INSERT INTO report_remedy_months AS t
            SELECT policy_id, %s, stage, service_area, remedy ->> 'kind', sum(sign),
                sum(sign * coalesce((remedy ->> 'amount_pence')::int8, 0))
            FROM %s AS s, jsonb_array_elements(remedies) AS remedy WHERE remedy_count > 0
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (policy_id, month, stage, service_area, kind) DO UPDATE SET
                remedies = t.remedies + excluded.remedies,
                compensation_pence = t.compensation_pence + excluded.compensation_pence$$, month, signed),
        'DELETE FROM report_remedy_months WHERE remedies = 0',

        format($$INSERT INTO report_theme_months AS t
            SELECT policy_id, %s, stage, service_area, root_cause, sum(sign),
                sum(CASE WHEN outcome IN ('upheld', 'partially_upheld') THEN sign ELSE 0 END)
            FROM %s AS s WHERE root_cause IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (policy_id, month, stage, service_area, root_cause) DO UPDATE SET
                responses = t.responses + excluded.responses, upheld = t.upheld + excluded.upheld$$,
            month, signed),
        'DELETE FROM report_theme_months WHERE responses = 0',

        -- A complaint's contribution depends on both its stage rows: take its rows as they are now and as
        -- they were (now, less the rows this statement wrote, plus their old versions), and pair each Stage
        -- 1 row with the Stage 2 row of the same state.
        format($$WITH changed AS (
                SELECT reference FROM %1$s AS o UNION SELECT reference FROM %2$s AS n
            ), now_rows AS (
                SELECT * FROM complaint_stages WHERE reference IN (SELECT reference FROM changed)
            ), states AS (
                SELECT 1 AS sign, * FROM now_rows
                UNION ALL
                SELECT -1 AS sign, * FROM now_rows AS r WHERE NOT EXISTS (
                    SELECT FROM %2$s AS n WHERE n.reference = r.reference AND n.stage = r.stage)
                UNION ALL
                SELECT -1 AS sign, * FROM %1$s AS o
            ), complaints AS (
                SELECT s1.sign, s1.policy_id, date_trunc('month', s1.received_on)::date AS month,
                    s1.service_area, coalesce(s2.ombudsman_decision, s1.ombudsman_decision) AS decision,
                    s1.responded_on IS NOT NULL AS responded, s2.reference IS NOT NULL AS escalated,
                    coalesce(s2.actions_promised, s1.actions_promised) AS actions_promised,
                    coalesce(s2.actions_done, s1.actions_done) AS actions_done,
                    coalesce(s2.actions_overdue, s1.actions_overdue) AS actions_overdue,
                    coalesce(s2.ombudsman_referred_on, s1.ombudsman_referred_on) IS NOT NULL AS referred,
                    coalesce(s2.ombudsman_decided_on, s1.ombudsman_decided_on) IS NOT NULL AS decided
                FROM states AS s1
                LEFT JOIN states AS s2 ON s2.sign = s1.sign AND s2.reference = s1.reference AND s2.stage = 2
                WHERE s1.stage = 1
            )
            INSERT INTO report_case_months AS t
            SELECT policy_id, month, service_area, decision, sum(sign),
                sum(CASE WHEN responded THEN sign ELSE 0 END), sum(CASE WHEN escalated THEN sign ELSE 0 END),
                sum(sign * actions_promised), sum(sign * actions_done), sum(sign * actions_overdue),
                sum(CASE WHEN referred THEN sign ELSE 0 END), sum(CASE WHEN decided THEN sign ELSE 0 END)
            FROM complaints
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            ON CONFLICT (policy_id, month, service_area, decision) DO UPDATE SET
                complaints = t.complaints + excluded.complaints, responded = t.responded + excluded.responded,
                escalated = t.escalated + excluded.escalated,
                actions_promised = t.actions_promised + excluded.actions_promised,
                actions_done = t.actions_done + excluded.actions_done,
                actions_overdue = t.actions_overdue + excluded.actions_overdue,
                referrals = t.referrals + excluded.referrals, decisions = t.decisions + excluded.decisions$$,
            old_rows, new_rows),
        'DELETE FROM report_case_months WHERE complaints = 0'
    ];
END
$fn$;

-- The triggers: one per kind of write (a transition table belongs to one event). An INSERT ... ON CONFLICT
-- DO UPDATE fires the INSERT one for the rows it inserted and the UPDATE one for those it updated; the
-- complaint-wide figures assume such a statement does not insert one stage of a complaint and update another
-- (the service writes one stage row per statement).
-- Their functions are generated here from the same statements, as static SQL: PL/pgSQL then plans each
-- statement once per session, where EXECUTE would plan it again at every write. The side a trigger has no
-- transition table for is an empty set of rows (a subquery, not a view, so a column added to
-- complaint_stages later is in both sides, and ALTER TABLE invalidates the plans). A statement that matched
-- nothing (an upsert whose event is older than the row) costs two empty scans.
DO $do$
DECLARE
    nothing text := '(SELECT * FROM complaint_stages WHERE false)';
    kind record;
BEGIN
    FOR kind IN
        SELECT * FROM (VALUES ('insert', nothing, 'new_rows'), ('update', 'old_rows', 'new_rows'),
                              ('delete', 'old_rows', nothing)) AS kinds (op, old_source, new_source)
    LOOP
        EXECUTE format(
            $f$CREATE FUNCTION report_summary_follow_%s() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                IF EXISTS (SELECT FROM %s AS o) OR EXISTS (SELECT FROM %s AS n) THEN
                    %s;
                END IF;
                RETURN NULL;
            END
            $body$$f$,
            kind.op, kind.old_source, kind.new_source,
            replace(array_to_string(report_summary_statements(kind.old_source, kind.new_source), E';\n'),
                    'SELECT pg_advisory_xact_lock', 'PERFORM pg_advisory_xact_lock'));
    END LOOP;
END
$do$;

CREATE TRIGGER complaint_stages_summary_insert AFTER INSERT ON complaint_stages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_summary_follow_insert();
CREATE TRIGGER complaint_stages_summary_update AFTER UPDATE ON complaint_stages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION report_summary_follow_update();
CREATE TRIGGER complaint_stages_summary_delete AFTER DELETE ON complaint_stages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_summary_follow_delete();

-- TRUNCATE (also by TRUNCATE complaints CASCADE) removes every stage row without row events: so every summary.
CREATE FUNCTION report_summary_clear() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM report_stage_months;
    DELETE FROM report_days_months;
    DELETE FROM report_extension_months;
    DELETE FROM report_remedy_months;
    DELETE FROM report_case_months;
    DELETE FROM report_theme_months;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER complaint_stages_summary_truncate AFTER TRUNCATE ON complaint_stages
    FOR EACH STATEMENT EXECUTE FUNCTION report_summary_clear();

-- Recompute every summary from complaint_stages (after a bulk load with triggers off, or to check them).
CREATE FUNCTION report_summary_rebuild() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    statement text;
BEGIN
    LOCK TABLE complaint_stages IN SHARE MODE;  -- no write in between: the summaries match the rows
    DELETE FROM report_stage_months;
    DELETE FROM report_days_months;
    DELETE FROM report_extension_months;
    DELETE FROM report_remedy_months;
    DELETE FROM report_case_months;
    DELETE FROM report_theme_months;
    FOREACH statement IN ARRAY report_summary_statements('(SELECT * FROM complaint_stages WHERE false)', 'complaint_stages') LOOP
        EXECUTE statement;
    END LOOP;
END
$fn$;

SELECT report_summary_rebuild();
