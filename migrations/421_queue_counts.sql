-- Issue 25: the staff console's queue counts at 1,000,000 complaints. Each queue page shows six counts; each
-- was a count of up to 1,001 matching complaints read from the heap (bench/console.py: 22 to 350 ms each,
-- the Unassigned count the worst, about 600 ms a page in all). The counts of the five queues that do not
-- depend on the clock are kept here instead, per service area (need-to-know) and, for My cases, per
-- assignee, by statement triggers on complaints in the same transaction as every write; a page sums the
-- reader's areas and subtracts the few complaints closed to the reader (declared conflicts, naming them:
-- store/queue_counts.py), as the reports subtract them from their summaries. "Due within 3 working days"
-- depends on the time of the request: the open complaints are counted per service area and hour of their
-- next deadline (`deadline_counts`), so the queue sums the whole hours from the next one to its end and reads
-- only the rest of the current hour from the rows (its capped count read up to 3,466 rows at 1,000,000
-- complaints, 236 ms).
--
-- The queues' membership, as web/staff/queues.py's filters define it (tests/test_queue_counts.py checks the
-- counts against those filters' own count over the rows). `assignee` is '' except for My cases.
CREATE FUNCTION complaint_queue_keys(status text, assigned_to text, overdue boolean, stage smallint)
RETURNS TABLE (queue text, assignee text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT key.queue, key.assignee FROM (VALUES
        ('mine', coalesce(assigned_to, ''),
            status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused') AND assigned_to IS NOT NULL),
        ('unassigned', '',
            status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused') AND assigned_to IS NULL),
        ('overdue', '', status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused') AND overdue),
        ('stage-2', '', status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused') AND stage = 2),
        ('waiting', '', status = 'awaiting_information')
    ) AS key (queue, assignee, member)
    WHERE key.member
$$;

CREATE TABLE queue_counts (
    queue        text NOT NULL,
    service_area text NOT NULL,
    assignee     text NOT NULL,
    complaints   int8 NOT NULL,
    PRIMARY KEY (queue, service_area, assignee)
);


-- Open complaints with a next deadline, per service area and the hour (UTC) the deadline falls in.
CREATE TABLE deadline_counts (
    service_area text NOT NULL,
    hour         timestamptz NOT NULL,
    complaints   int8 NOT NULL,
    PRIMARY KEY (hour, service_area)
);


-- Both sets of counters recomputed from the complaints: now, and by the read-model rebuild (store/rebuild.py)
-- after a restore or rows written with the triggers off. Writes to complaints wait for it (SHARE lock until
-- the transaction ends), so the counters match the rows exactly.
CREATE FUNCTION queue_counts_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE complaints IN SHARE MODE;
    DELETE FROM queue_counts;
    INSERT INTO queue_counts (queue, service_area, assignee, complaints)
    SELECT key.queue, c.service_area, key.assignee, count(*)
    FROM complaints AS c, complaint_queue_keys(c.status, c.assigned_to, c.overdue, c.stage) AS key
    GROUP BY 1, 2, 3;
    DELETE FROM deadline_counts;
    INSERT INTO deadline_counts (service_area, hour, complaints)
    SELECT service_area, date_trunc('hour', next_deadline, 'UTC'), count(*)
    FROM complaints
    WHERE next_deadline IS NOT NULL AND status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused')
    GROUP BY 1, 2;
END
$$;

SELECT queue_counts_rebuild();

-- One statement per table and write: the rows as they were leave their queues (and deadline hours), the
-- rows as they are join theirs, netted per key, written in key order (so two writers take the counter rows
-- in the same order and cannot deadlock on them). A write that changes no queue and no deadline hour (most
-- of a complaint's events) writes nothing. Counters at zero stay; a page reads a few hundred rows at most.
CREATE FUNCTION queue_counts_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO queue_counts AS counts (queue, service_area, assignee, complaints)
        SELECT key.queue, n.service_area, key.assignee, count(*)
        FROM new_rows AS n, complaint_queue_keys(n.status, n.assigned_to, n.overdue, n.stage) AS key
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (queue, service_area, assignee)
        DO UPDATE SET complaints = counts.complaints + EXCLUDED.complaints;
        INSERT INTO deadline_counts AS counts (hour, service_area, complaints)
        SELECT date_trunc('hour', n.next_deadline, 'UTC'), n.service_area, count(*)
        FROM new_rows AS n
        WHERE n.next_deadline IS NOT NULL
            AND n.status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused')
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (hour, service_area) DO UPDATE SET complaints = counts.complaints + EXCLUDED.complaints;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO queue_counts AS counts (queue, service_area, assignee, complaints)
        SELECT key.queue, o.service_area, key.assignee, -count(*)
        FROM old_rows AS o, complaint_queue_keys(o.status, o.assigned_to, o.overdue, o.stage) AS key
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (queue, service_area, assignee)
        DO UPDATE SET complaints = counts.complaints + EXCLUDED.complaints;
        INSERT INTO deadline_counts AS counts (hour, service_area, complaints)
        SELECT date_trunc('hour', o.next_deadline, 'UTC'), o.service_area, -count(*)
        FROM old_rows AS o
        WHERE o.next_deadline IS NOT NULL
            AND o.status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused')
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (hour, service_area) DO UPDATE SET complaints = counts.complaints + EXCLUDED.complaints;
    ELSE
        INSERT INTO queue_counts AS counts (queue, service_area, assignee, complaints)
        SELECT queue, service_area, assignee, sum(delta)
        FROM (
            SELECT key.queue, n.service_area, key.assignee, 1 AS delta
            FROM new_rows AS n, complaint_queue_keys(n.status, n.assigned_to, n.overdue, n.stage) AS key
            UNION ALL
            SELECT key.queue, o.service_area, key.assignee, -1
            FROM old_rows AS o, complaint_queue_keys(o.status, o.assigned_to, o.overdue, o.stage) AS key
        ) AS changes
        GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (queue, service_area, assignee)
        DO UPDATE SET complaints = counts.complaints + EXCLUDED.complaints;
        INSERT INTO deadline_counts AS counts (hour, service_area, complaints)
        SELECT hour, service_area, sum(delta)
        FROM (
            SELECT date_trunc('hour', n.next_deadline, 'UTC') AS hour, n.service_area, 1 AS delta
            FROM new_rows AS n
            WHERE n.next_deadline IS NOT NULL
                AND n.status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused')
            UNION ALL
            SELECT date_trunc('hour', o.next_deadline, 'UTC'), o.service_area, -1
            FROM old_rows AS o
            WHERE o.next_deadline IS NOT NULL
                AND o.status NOT IN ('closed', 'declined', 'withdrawn', 'escalation_refused')
        ) AS changes
        GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2
        ON CONFLICT (hour, service_area) DO UPDATE SET complaints = counts.complaints + EXCLUDED.complaints;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER complaints_queue_counts_insert AFTER INSERT ON complaints
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_apply();
CREATE TRIGGER complaints_queue_counts_update AFTER UPDATE ON complaints
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_apply();
CREATE TRIGGER complaints_queue_counts_delete AFTER DELETE ON complaints
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_apply();
