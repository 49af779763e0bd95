-- Report summaries per day of receipt, for the edge days of a period (issue 26: every report under a second at
-- 1,000,000 complaints).
--
-- A report reads the whole months of its period from the monthly summaries (migrations 200, 250, 300) and, until
-- now, the days before the first whole month and after the last from the stage rows: a year from the 16th to
-- the 15th read its 30 edge days' 38,000 stage rows at 1,000,000 complaints, and joined each Stage 1 row to its
-- Stage 2 row (a hash join over every Stage 2 row of the table): 0.75 s p50, 1.1 s p95. These tables hold the
-- same additive counters per day, so the edge days are a few thousand summary rows, however many complaints.
--
-- Each is the monthly table's twin (same columns, keys and indexes): its `month` column holds the DAY of
-- receipt, so the monthly summaries' own statements keep them, with the month of receipt replaced by the day
-- and the table names by these (`report_day_statements`: one definition of every counter for both). Kept by
-- statement triggers in the same transaction as each write to complaint_stages, after the same council lock,
-- rebuilt by report_day_rebuild() (store/report_summary.py), filled below for the existing stage rows.
CREATE TABLE report_stage_days (LIKE report_stage_months INCLUDING ALL);
CREATE TABLE report_days_days (LIKE report_days_months INCLUDING ALL);
CREATE TABLE report_extension_days (LIKE report_extension_months INCLUDING ALL);
CREATE TABLE report_remedy_days (LIKE report_remedy_months INCLUDING ALL);
CREATE TABLE report_case_days (LIKE report_case_months INCLUDING ALL);
CREATE TABLE report_theme_days (LIKE report_theme_months INCLUDING ALL);
CREATE TABLE report_code_days (LIKE report_code_months INCLUDING ALL);
CREATE TABLE report_early_resolution_days (LIKE report_early_resolution_months INCLUDING ALL);

-- The monthly summaries' statements, per day: `date_trunc('month', received_on)::date` (the month of
-- receipt, of the row or of the complaint's Stage 1 row `s1`) becomes the day, `report_*_months` becomes
-- `report_*_days`. The council lock each set takes first is taken again (it is re-entrant and held already).
CREATE FUNCTION report_day_statements(old_rows text, new_rows text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT array_agg(
        replace(
            regexp_replace(statement, $re$date_trunc\('month', (s1\.)?received_on\)::date$re$, '\1received_on', 'g'),
            '_months', '_days')
        ORDER BY position)
    FROM unnest(report_summary_statements(old_rows, new_rows) || report_code_statements(old_rows, new_rows)
                || report_early_resolution_statements(old_rows, new_rows)) WITH ORDINALITY AS s (statement, position)
$fn$;

-- Static trigger functions generated from the statements, as migration 200 does (plans cached per session).
DO $do$
DECLARE
    nothing text := '(SELECT * FROM complaint_stages WHERE false)';
    kind record;
    body text;
BEGIN
    FOR kind IN
        SELECT * FROM (VALUES ('insert', nothing, 'new_rows'), ('update', 'old_rows', 'new_rows'),
                              ('delete', 'old_rows', nothing)) AS kinds (op, old_source, new_source)
    LOOP
        body := array_to_string(report_day_statements(kind.old_source, kind.new_source), E';\n');
        IF body LIKE '%date_trunc(''month''%' OR body LIKE '%\_months%' THEN
            RAISE EXCEPTION 'report_day_statements left a month in: %', body;
        END IF;
        EXECUTE format(
            $f$CREATE FUNCTION report_day_follow_%s() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                IF EXISTS (SELECT FROM %s AS o) OR EXISTS (SELECT FROM %s AS n) THEN
                    %s;
                END IF;
                RETURN NULL;
            END
            $body$$f$,
            kind.op, kind.old_source, kind.new_source,
            replace(body, 'SELECT pg_advisory_xact_lock', 'PERFORM pg_advisory_xact_lock'));
    END LOOP;
END
$do$;

CREATE TRIGGER complaint_stages_day_insert AFTER INSERT ON complaint_stages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_day_follow_insert();
CREATE TRIGGER complaint_stages_day_update AFTER UPDATE ON complaint_stages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION report_day_follow_update();
CREATE TRIGGER complaint_stages_day_delete AFTER DELETE ON complaint_stages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_day_follow_delete();

CREATE FUNCTION report_day_clear() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM report_stage_days;
    DELETE FROM report_days_days;
    DELETE FROM report_extension_days;
    DELETE FROM report_remedy_days;
    DELETE FROM report_case_days;
    DELETE FROM report_theme_days;
    DELETE FROM report_code_days;
    DELETE FROM report_early_resolution_days;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER complaint_stages_day_truncate AFTER TRUNCATE ON complaint_stages
    FOR EACH STATEMENT EXECUTE FUNCTION report_day_clear();

CREATE FUNCTION report_day_rebuild() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    statement text;
BEGIN
    LOCK TABLE complaint_stages IN SHARE MODE;  -- no write in between: the summaries match the rows
    DELETE FROM report_stage_days;
    DELETE FROM report_days_days;
    DELETE FROM report_extension_days;
    DELETE FROM report_remedy_days;
    DELETE FROM report_case_days;
    DELETE FROM report_theme_days;
    DELETE FROM report_code_days;
    DELETE FROM report_early_resolution_days;
    FOREACH statement IN ARRAY report_day_statements('(SELECT * FROM complaint_stages WHERE false)', 'complaint_stages') LOOP
        EXECUTE statement;
    END LOOP;
END
$fn$;

SELECT report_day_rebuild();
ANALYZE report_stage_days, report_days_days, report_extension_days, report_remedy_days, report_case_days,
    report_theme_days, report_code_days, report_early_resolution_days;
