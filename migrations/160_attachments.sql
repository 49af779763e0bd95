-- Evidence attached to a complaint by staff or the resident, kept in the database beside the case (one
-- backup, one retention purge: store.attachments.delete_attachments). The name is the sender's and may say
-- who they are: it is shown on the case, never written to the audit log (a hash and the size are).
CREATE TABLE attachments (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference     text NOT NULL REFERENCES complaints (reference),
    filename      text NOT NULL,
    content_type  text NOT NULL,
    size          integer NOT NULL,
    sha256        text NOT NULL,
    content       bytea NOT NULL,
    uploaded_by   text NOT NULL,
    uploader_role text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_reference_idx ON attachments (reference, created_at);
