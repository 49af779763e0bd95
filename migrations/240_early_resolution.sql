-- Issue 28: how a complaint's early-resolution step before Stage 1 ended (policies with such a step only),
-- so reports can count frontline resolutions apart from investigations (as the SPSO does): `resolved` (the
-- complaint closed there), `requested` (the complainant asked for an investigation) or `not_suitable` (the
-- officer decided early resolution did not fit). NULL: no such step, or it is still running.
ALTER TABLE complaint_stages ADD COLUMN early_resolution text
    CHECK (early_resolution IN ('resolved', 'requested', 'not_suitable'));
