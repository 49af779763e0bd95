"""The one-time code of a resident's e-mailed link exists in clear only in the message sent.

The outbox row of an `access_link` e-mail holds the link without its code (`link_base`) and the id of the
credential it arms (`token_id`); that credential is created with the hash of a secret nobody keeps, so it
opens nothing. Only when the message is about to go out (its address resolved, in the claim's transaction)
is a fresh code drawn, its hash put on the credential and the code put in the message. A message skipped,
failed or never sent therefore leaves no usable code anywhere: not in the outbox, not in a subject access
export. Each try draws a new code (a retried or re-sent message's code replaces the previous one's).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from api.resident.tokens import hash_token, new_token
from store.complaints import Executor


class LinkWithdrawn(Exception):
    """The credential the link would arm was revoked, used or has expired: nothing to send."""


async def with_fresh_code(db: Executor, template: str, context: dict[str, Any]) -> dict[str, Any]:
    """The context to render, with a live link for an `access_link` row (its code drawn now); other
    templates' contexts unchanged. Runs in the caller's transaction, which commits the code's hash."""
    if template != "access_link":
        return context
    token_id, base = context.get("token_id"), context.get("link_base")
    if not isinstance(token_id, int) or not isinstance(base, str):
        raise LinkWithdrawn("no link to send (withdrawn: the resident can ask for a new one)")
    code = new_token()
    armed = await db.fetchval(
        "UPDATE resident_tokens SET token_hash = $2 WHERE id = $1 AND kind = 'link' AND used_at IS NULL"
        " AND revoked_at IS NULL AND expires_at > now() RETURNING id",
        token_id,
        hash_token(code),
    )
    if armed is None:
        raise LinkWithdrawn("the link was revoked or expired before it could be sent")
    separator = "&" if "?" in base else "?"
    return {**context, "link": f"{base}{separator}{urlencode({'code': code})}"}
