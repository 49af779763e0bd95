-- Issue 24: a contact restriction may also stop correspondence on a matter already addressed, where the
-- council's policy says so (council-004: "no further correspondence and/or communication will be entered into
-- until the expiration of the agreed time period"). The resident channels it closes then say that no reply
-- will come, instead of inviting a letter by post. Restrictions decided before it stopped nothing.
ALTER TABLE contact_restrictions ADD COLUMN IF NOT EXISTS stops_correspondence boolean NOT NULL DEFAULT false;
