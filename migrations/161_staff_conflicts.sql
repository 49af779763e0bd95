-- A conflict of interest a staff member declared on a complaint: from then on the complaint is closed to
-- them (reads, lists, actions), as it is to staff named in it.
CREATE TABLE staff_conflicts (
    reference   text NOT NULL REFERENCES complaints (reference),
    staff_id    text NOT NULL,
    declared_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (reference, staff_id)
);
CREATE INDEX staff_conflicts_staff_idx ON staff_conflicts (staff_id, reference);
