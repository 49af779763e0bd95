"""Resident codes (access codes, one-time link codes, session secrets): random, stored only as a SHA-256
hash, one complaint each."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

TOKEN_LIFETIME = timedelta(days=90)
# secrets.token_urlsafe(32) gives 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 200


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token (hex SHA-256): a token is found by its hash, never compared in clear."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def form_key(token: str) -> str:
    """The hidden field of the pages' forms (a CSRF guard): derived from the resident's session secret (the
    HttpOnly cookie), so a form posted from another site, which cannot read it, is refused."""
    return hashlib.sha256(b"resident-form:" + token.encode("utf-8")).hexdigest()[:32]


def same(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))
