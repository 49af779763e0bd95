-- Statutory figures on the Complaint Handling Code's clock (issue 26): the Regulator's CH01 per tenure and
-- CH02 within the Code's timescales, next to the council's own figures.
--
-- A complaint records the complainant's tenure on intake (optional; domain/tsm.py lists the values), copied
-- to its stage rows like the council and the service area. Each stage row keeps its dates on the Code's clock
-- (acknowledge within 5 working days; answer within 10, or 20 at Stage 2, of the acknowledgement, plus any
-- extension up to the Code's limit): computed by the record activity and the read-model rebuild with the
-- council's calendar, so the report sums counters. Rows written before this migration have none until
-- `complaints rebuild-read-model` writes them again (they count as not within the Code meanwhile).
ALTER TABLE complaints ADD COLUMN tenure text;
ALTER TABLE complaint_stages
    ADD COLUMN tenure              text,
    ADD COLUMN code_acknowledge_by date,
    ADD COLUMN code_respond_by     date;

-- Per (council, month of receipt, stage, service area, tenure): kept by triggers like the summaries of
-- migration 200 (the same council lock first, so writers never deadlock), rebuilt by
-- report_code_rebuild() (store/report_summary.py calls it after report_summary_rebuild()).
CREATE TABLE report_code_months (
    policy_id                text NOT NULL,
    month                    date NOT NULL,
    stage                    smallint NOT NULL,
    service_area             text NOT NULL,
    tenure                   text,
    received                 bigint NOT NULL,  -- stage rows in the group (0: the row is deleted)
    acknowledged             bigint NOT NULL,
    acknowledged_within_code bigint NOT NULL,
    responded                bigint NOT NULL,
    responded_within_code    bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (policy_id, month, stage, service_area, tenure)
);
CREATE INDEX report_code_months_empty_idx ON report_code_months (policy_id) WHERE received = 0;
CREATE INDEX report_code_months_month_idx ON report_code_months (month);

CREATE FUNCTION report_code_statements(old_rows text, new_rows text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    signed text := format(
        '(SELECT -1 AS sign, o.* FROM %s AS o UNION ALL SELECT 1 AS sign, n.* FROM %s AS n)', old_rows, new_rows
    );
BEGIN
    RETURN ARRAY[
        format($$SELECT pg_advisory_xact_lock(hashtext('report_summary'), hashtext(policy_id))
                 FROM (SELECT DISTINCT policy_id FROM %s AS s ORDER BY 1) AS councils$$, signed),
        format($$INSERT INTO report_code_months AS t
            SELECT policy_id, date_trunc('month', received_on)::date, stage, service_area, tenure,
                sum(sign),
                sum(CASE WHEN acknowledged_on IS NOT NULL THEN sign ELSE 0 END),
                sum(CASE WHEN acknowledged_on <= code_acknowledge_by THEN sign ELSE 0 END),
                sum(CASE WHEN responded_on IS NOT NULL THEN sign ELSE 0 END),
                sum(CASE WHEN responded_on <= code_respond_by THEN sign ELSE 0 END)
            FROM %s AS s
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (policy_id, month, stage, service_area, tenure) DO UPDATE SET
                received = t.received + excluded.received,
                acknowledged = t.acknowledged + excluded.acknowledged,
                acknowledged_within_code = t.acknowledged_within_code + excluded.acknowledged_within_code,
                responded = t.responded + excluded.responded,
                responded_within_code = t.responded_within_code + excluded.responded_within_code$$, signed),
        'DELETE FROM report_code_months WHERE received = 0'
    ];
END
$fn$;

-- Static trigger functions generated from the statements, as migration 200 does (plans cached per session).
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
            $f$CREATE FUNCTION report_code_follow_%s() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                IF EXISTS (SELECT FROM %s AS o) OR EXISTS (SELECT FROM %s AS n) THEN
                    %s;
                END IF;
                RETURN NULL;
            END
            $body$$f$,
            kind.op, kind.old_source, kind.new_source,
            replace(array_to_string(report_code_statements(kind.old_source, kind.new_source), E';\n'),
                    'SELECT pg_advisory_xact_lock', 'PERFORM pg_advisory_xact_lock'));
    END LOOP;
END
$do$;

CREATE TRIGGER complaint_stages_code_insert AFTER INSERT ON complaint_stages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_code_follow_insert();
CREATE TRIGGER complaint_stages_code_update AFTER UPDATE ON complaint_stages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION report_code_follow_update();
CREATE TRIGGER complaint_stages_code_delete AFTER DELETE ON complaint_stages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_code_follow_delete();

CREATE FUNCTION report_code_clear() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM report_code_months;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER complaint_stages_code_truncate AFTER TRUNCATE ON complaint_stages
    FOR EACH STATEMENT EXECUTE FUNCTION report_code_clear();

CREATE FUNCTION report_code_rebuild() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    statement text;
BEGIN
    LOCK TABLE complaint_stages IN SHARE MODE;
    DELETE FROM report_code_months;
    FOREACH statement IN ARRAY report_code_statements('(SELECT * FROM complaint_stages WHERE false)', 'complaint_stages') LOOP
        EXECUTE statement;
    END LOOP;
END
$fn$;

SELECT report_code_rebuild();
