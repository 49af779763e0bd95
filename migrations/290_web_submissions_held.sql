-- Issue 29 (point 11): a complaint made on the public form by someone whose new online complaints are
-- restricted gets the answer any complaint gets, but waits in the triage queue (flag contact_restricted)
-- for an officer to decide under the restriction. It is kept as an inbound message from the web.
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_source_check;
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_source_check
    CHECK (source IN ('smtp', 'imap', 'web'));
