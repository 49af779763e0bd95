-- Inbound messages are kept once by the SHA-256 of their Message-ID, not by the text itself: a Message-ID
-- of encoded words decodes to several kilobytes (998 characters of CJK text are ~3,000 bytes), past what a
-- btree index entry may hold, so every insert of such a message failed. The text stays, unindexed.
ALTER TABLE inbound_messages ADD COLUMN message_key bytea;
UPDATE inbound_messages SET message_key = sha256(convert_to(message_id, 'UTF8'));
ALTER TABLE inbound_messages ALTER COLUMN message_key SET NOT NULL;
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_message_key_key UNIQUE (message_key);
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_message_id_key;
