-- How the early-resolution step (migration 240) ended, per (council, month of receipt, service area, ending),
-- counted over the Stage 1 rows that went through it. The performance report read these counts from every
-- Stage 1 row of its period (a year: every Stage 1 row of the year, fetched from the heap); it now reads the
-- whole months here and only the edge days from the stage rows, like every other figure (issue 26).
-- Kept by triggers like the summaries of migrations 200 and 250 (the same council lock first, so writers
-- never deadlock), rebuilt by report_early_resolution_rebuild() (store/report_summary.py).
CREATE TABLE report_early_resolution_months (
    policy_id        text NOT NULL,
    month            date NOT NULL,
    service_area     text NOT NULL,
    early_resolution text NOT NULL,
    complaints       bigint NOT NULL,  -- Stage 1 rows in the group (0: the row is deleted)
    PRIMARY KEY (policy_id, month, service_area, early_resolution)
);
CREATE INDEX report_early_resolution_months_empty_idx ON report_early_resolution_months (policy_id)
    WHERE complaints = 0;
CREATE INDEX report_early_resolution_months_month_idx ON report_early_resolution_months (month);

CREATE FUNCTION report_early_resolution_statements(old_rows text, new_rows text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    signed text := format(
        '(SELECT -1 AS sign, o.* FROM %s AS o UNION ALL SELECT 1 AS sign, n.* FROM %s AS n)', old_rows, new_rows
    );
BEGIN
    RETURN ARRAY[
        format($$SELECT pg_advisory_xact_lock(hashtext('report_summary'), hashtext(policy_id))
                 FROM (SELECT DISTINCT policy_id FROM %s AS s ORDER BY 1) AS councils$$, signed),
        format($$INSERT INTO report_early_resolution_months AS t
            SELECT policy_id, date_trunc('month', received_on)::date, service_area, early_resolution, sum(sign)
            FROM %s AS s WHERE stage = 1 AND early_resolution IS NOT NULL
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            ON CONFLICT (policy_id, month, service_area, early_resolution) DO UPDATE SET
                complaints = t.complaints + excluded.complaints$$, signed),
        'DELETE FROM report_early_resolution_months WHERE complaints = 0'
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
            $f$CREATE FUNCTION report_early_resolution_follow_%s() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                IF EXISTS (SELECT FROM %s AS o WHERE o.early_resolution IS NOT NULL)
                        OR EXISTS (SELECT FROM %s AS n WHERE n.early_resolution IS NOT NULL) THEN
                    %s;
                END IF;
                RETURN NULL;
            END
            $body$$f$,
            kind.op, kind.old_source, kind.new_source,
            replace(array_to_string(report_early_resolution_statements(kind.old_source, kind.new_source), E';\n'),
                    'SELECT pg_advisory_xact_lock', 'PERFORM pg_advisory_xact_lock'));
    END LOOP;
END
$do$;

CREATE TRIGGER complaint_stages_early_resolution_insert AFTER INSERT ON complaint_stages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_early_resolution_follow_insert();
CREATE TRIGGER complaint_stages_early_resolution_update AFTER UPDATE ON complaint_stages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION report_early_resolution_follow_update();
CREATE TRIGGER complaint_stages_early_resolution_delete AFTER DELETE ON complaint_stages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_early_resolution_follow_delete();

CREATE FUNCTION report_early_resolution_clear() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM report_early_resolution_months;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER complaint_stages_early_resolution_truncate AFTER TRUNCATE ON complaint_stages
    FOR EACH STATEMENT EXECUTE FUNCTION report_early_resolution_clear();

CREATE FUNCTION report_early_resolution_rebuild() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    statement text;
BEGIN
    LOCK TABLE complaint_stages IN SHARE MODE;
    DELETE FROM report_early_resolution_months;
    FOREACH statement IN ARRAY report_early_resolution_statements('(SELECT * FROM complaint_stages WHERE false)', 'complaint_stages') LOOP
        EXECUTE statement;
    END LOOP;
END
$fn$;

SELECT report_early_resolution_rebuild();
