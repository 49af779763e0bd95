-- Found by bench/ at 200,000 complaints: free text was a sequential scan and the overdue filter walked the
-- date index past old rows. Built-in full-text search (no extension needed) and a partial index in list order.
ALTER TABLE complaints ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', coalesce(complainant_name, '') || ' ' || summary || ' ' || service_area)
) STORED;
CREATE INDEX complaints_search_idx ON complaints USING gin (search);
CREATE INDEX complaints_reference_pattern_idx ON complaints (reference text_pattern_ops);

DROP INDEX complaints_overdue_idx;
CREATE INDEX complaints_overdue_idx ON complaints (received_at DESC, reference DESC) WHERE overdue;
