-- Issue 26: a report read by a staff member leaves out the complaints closed to them (a declared conflict of
-- interest, or naming them). It now subtracts those few complaints' contributions from the monthly
-- summaries (store/report_sources.py, CLOSED_ROWS) instead of counting the period from every stage row, and
-- finds the complaints naming the reader through this index: a partial GIN index over the few complaints
-- that name any staff member (0.5% in bench/), where `$1 = ANY(staff_complained_about)` read the whole table
-- (about 1 s at 1,000,000 complaints, for every report of such a reader).
CREATE INDEX complaints_staff_named_idx ON complaints USING gin (staff_complained_about)
    WHERE cardinality(staff_complained_about) > 0;
