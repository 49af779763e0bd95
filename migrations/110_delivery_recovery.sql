-- A claim left by a sender that stopped (crash, kill) is no longer settled as 'uncertain' and left: it is
-- resolved through the provider's own record (GOV.UK Notify, by reference) or sent again with the same
-- Message-ID. `recovered` says how ('confirmed by the provider' or 'sent again'); staff are flagged for each.
ALTER TABLE notifications ADD COLUMN recovered text;
