-- Where the IMAP poller is in each shared mailbox (inbound/imap.py): the mailbox's UIDVALIDITY and the last
-- UID read. Mail is taken by UID, not by the \Seen flag, so a message a person opened in the shared mailbox
-- before the poll is still read; a new UIDVALIDITY (the mailbox rebuilt) reads it all again, and the
-- Message-ID key (migration 261) makes a re-read add nothing. No personal data: the key names the mailbox
-- by host, user and folder.
CREATE TABLE inbound_mailbox_cursors (
    mailbox      text PRIMARY KEY,
    uid_validity bigint NOT NULL,
    last_uid     bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
