-- Issue 29 (1): a resident's one-time link code exists in clear only in the message sent. Earlier releases
-- kept the whole link in the outbox until the message went out, and for good when it was skipped, failed or
-- uncertain, where a subject access export showed it. Every such code is revoked and every copy removed; a
-- row still waiting is withdrawn (the resident can ask for a new link, which is drawn when it is sent).
UPDATE resident_tokens t SET revoked_at = now()
FROM notifications n
WHERE n.template = 'access_link' AND n.context ? 'link' AND n.status <> 'sent'
  AND n.id = 'access:' || t.reference || ':' || t.id::text
  AND t.kind = 'link' AND t.revoked_at IS NULL;

UPDATE notifications
SET status = CASE WHEN status IN ('pending', 'sending') THEN 'skipped' ELSE status END,
    last_error = CASE WHEN status IN ('pending', 'sending')
                      THEN 'withdrawn on upgrade: the link was stored with its code; the resident can ask again'
                      ELSE last_error END,
    context = context - 'link'
WHERE template = 'access_link' AND context ? 'link';
