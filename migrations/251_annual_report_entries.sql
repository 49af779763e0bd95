-- The parts of the annual complaints performance and service improvement report that the service cannot
-- fill from its records (the Complaint Handling Code, section 8): entered by a complaints manager per council
-- and financial year, one text per section (reporting/annual_sections.py names them). Council texts, not a
-- resident's personal data; each change is also in the audit trail (action annual_report_entry, with the
-- text's length and keyed hash, never the text).
CREATE TABLE annual_report_entries (
    policy_id  text NOT NULL,
    year       smallint NOT NULL,  -- the financial year from 1 April
    section    text NOT NULL,
    body       text NOT NULL,
    entered_by text NOT NULL,
    entered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (policy_id, year, section)
);
