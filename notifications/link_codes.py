"""The codes of a resident's access e-mail exist in clear only in the message sent.

The outbox row of an `access_link` e-mail holds the link without its code (`link_base`) and the ids of the
credentials it arms: the link's one-time code (`token_id`) and an access code to type in
(`access_token_id`, in messages since short access codes); that of an `access_code` e-mail (a new code a
staff member issued) holds `access_token_id` only. Each credential is created with the hash of a
secret nobody keeps, so it opens nothing. Only when the message is about to go out (its address resolved,
in the claim's transaction) are fresh codes drawn, their hashes put on the credentials and the codes put
in the message. A message skipped, failed or never sent therefore leaves no usable code anywhere: not in
the outbox, not in a subject access export. Each try draws new codes (a retried or re-sent message's codes
replace the previous one's).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from api.resident.tokens import hash_token, new_access_code, new_token
from store.complaints import Executor

_ARM = (
    "UPDATE resident_tokens SET token_hash = $2 WHERE id = $1 AND kind = $3 AND used_at IS NULL"
    " AND revoked_at IS NULL AND expires_at > now() RETURNING id"
)


# The letter of a new access code a staff member issued (api/access_codes.py): by e-mail it arms its code
# here; by post the code was drawn when it was issued and printed then (its row names no credential).
ACCESS_CODE = "access_code"


class LinkWithdrawn(Exception):
    """The credential the link would arm was revoked, used or has expired: nothing to send."""


async def with_fresh_code(db: Executor, template: str, context: dict[str, Any]) -> dict[str, Any]:
    """The context to render, with a live link (and access code) for an `access_link` row, drawn now; other
    templates' contexts unchanged. Runs in the caller's transaction, which commits the codes' hashes."""
    if template == ACCESS_CODE:
        return await _with_fresh_access_code(db, context)
    if template != "access_link":
        return context
    token_id, base = context.get("token_id"), context.get("link_base")
    if not isinstance(token_id, int) or not isinstance(base, str):
        raise LinkWithdrawn("no link to send (withdrawn: the resident can ask for a new one)")
    code = new_token()
    if await db.fetchval(_ARM, token_id, hash_token(code), "link") is None:
        raise LinkWithdrawn("the link was revoked or expired before it could be sent")
    separator = "&" if "?" in base else "?"
    fresh = {**context, "link": f"{base}{separator}{urlencode({'code': code})}"}
    access_id = context.get("access_token_id")
    if isinstance(access_id, int):
        access_code = new_access_code()
        if await db.fetchval(_ARM, access_id, hash_token(access_code), "access") is not None:
            fresh["access_code"] = access_code
    return fresh


async def _with_fresh_access_code(db: Executor, context: dict[str, Any]) -> dict[str, Any]:
    access_id = context.get("access_token_id")
    if not isinstance(access_id, int):
        raise LinkWithdrawn("a new access code by post is printed when it is issued, never e-mailed")
    access_code = new_access_code()
    if await db.fetchval(_ARM, access_id, hash_token(access_code), "access") is None:
        raise LinkWithdrawn("the access code was withdrawn or expired before it could be sent")
    return {**context, "access_code": access_code}
