-- What the sender of a held submission (migration 400) sends while an officer's decision holds its triage
-- item (the claim, migration 350: normally under a second, at most the lease after a crash). The item's text
-- and files are what the decision carries out, so nothing is added to them meanwhile: it waits here, then
-- goes where the decision put the item (inbound/held_later.py): to the complaint opened from it (information
-- through the workflow, a file as the complaint's evidence), else back onto the item (its text, its files).
-- Personal data: it goes with the item (the retention purge deletes the message, and this with it).
CREATE TABLE held_sent_during_decision (
    seq bigserial PRIMARY KEY,
    inbound_id uuid NOT NULL REFERENCES inbound_messages (id) ON DELETE CASCADE,
    sent_at timestamptz NOT NULL DEFAULT now(),
    -- Information: as the item's text takes it (`text`), and as sent (`summary`, the complaint's).
    text text,
    summary text,
    -- A file, checked as any upload is when it was sent: its name, type, content and the item's list entry.
    filename text,
    content_type text,
    content bytea,
    attachment jsonb
);
CREATE INDEX held_sent_during_decision_item_idx ON held_sent_during_decision (inbound_id, seq);
