-- Issue 29 (point 11), review of migration 400: a held submission's triage item keeps its intake key (the
-- held reference) from the start, so the key alone cannot say that an officer's open decision began. This
-- marks it, before the complaint's workflow is started (inbound/triage.py): from then on the item can only be
-- finished as that complaint, even if the request got no answer and the case row is not written yet.
ALTER TABLE held_submissions ADD COLUMN open_begun_at timestamptz;
