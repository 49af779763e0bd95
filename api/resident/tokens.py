"""Resident codes (access codes, one-time link codes, session secrets): random, stored only as a SHA-256
hash, one complaint each.

An access code is what a resident types or reads out: 12 characters from an alphabet with no look-alikes
(no 0/O, 1/I/L, and no U, so no word is spelled by chance), shown grouped as ABCD-EFGH-JKMN and accepted in
any case, with or without spaces or hyphens. 30^12 is about 5 x 10^17 codes (59 bits); wrong codes are
counted per complaint and per client address (`ratelimit.py`: 10 a complaint per 15 minutes by default), so
in the 90 days a code lives at most 86,400 guesses can be made at one complaint: a chance of about 1 in
6,000,000,000,000 of finding its code. Link codes (only ever in an e-mailed URL) and session secrets (only
in the HttpOnly cookie) are never typed, so they stay long and case-sensitive.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

TOKEN_LIFETIME = timedelta(days=90)
# secrets.token_urlsafe(32) gives 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 200

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 12
CODE_GROUP = 4
# What a resident may type around the code's characters: spaces, hyphens (the grouping), dots.
_SEPARATORS = str.maketrans("", "", " -.\t")
# A typed access code is at most this long with its separators (longer is a link code or a session).
_TYPED_CODE_MAX = 24


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_access_code() -> str:
    """A new access code, grouped for reading: ABCD-EFGH-JKMN."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(code[start : start + CODE_GROUP] for start in range(0, CODE_LENGTH, CODE_GROUP))


def normal_code(typed: str) -> str:
    """An access code as stored (upper case, no separators) however it was typed; anything that is not one
    (a link code, a session secret, an access code from before short codes) unchanged."""
    if len(typed) > _TYPED_CODE_MAX:
        return typed
    bare = typed.translate(_SEPARATORS).upper()
    if len(bare) == CODE_LENGTH and all(character in CODE_ALPHABET for character in bare):
        return bare
    return typed


def hash_token(token: str) -> str:
    """The stored form of a token (hex SHA-256): a token is found by its hash, never compared in clear. An
    access code is hashed in its normal form, so "abcd efgh jkmn" finds ABCD-EFGH-JKMN."""
    return hashlib.sha256(normal_code(token).encode("utf-8")).hexdigest()


def form_key(token: str) -> str:
    """The hidden field of the pages' forms (a CSRF guard): derived from the resident's session secret (the
    HttpOnly cookie), so a form posted from another site, which cannot read it, is refused."""
    return hashlib.sha256(b"resident-form:" + token.encode("utf-8")).hexdigest()[:32]


def same(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))
