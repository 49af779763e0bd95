"""The payload codec: every payload the service hands to Temporal is encrypted with AES-256-GCM.

Modelled on temporalio/samples-python `encryption/codec.py`. The whole serialised payload (its data and its
metadata, so even the encoding name) becomes the ciphertext; the new payload's metadata says
`binary/encrypted` and names the key that encrypted it. Several keys may be configured (PAYLOAD_KEYS): the
first encrypts, every one decrypts, so a key is rotated by putting a new one first and removing the old one
once no history that needs it is kept. A payload that is not encrypted (written before the codec existed, as
in the committed histories) passes through decoding unchanged.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12

# Development and tests only (production refuses it): a fixed key, so the dev stack's API and worker, and a
# restarted `make run` over the same .data/, read each other's payloads.
DEV_KEY_ID = "dev"
DEV_KEY = base64.b64encode(b"development-only-key-not-secret!").decode()
DEV_PAYLOAD_KEYS = f"{DEV_KEY_ID}:{DEV_KEY}"


class PayloadKeyError(ValueError):
    """PAYLOAD_KEYS is malformed, or a payload names a key this process does not have."""


@dataclass(frozen=True)
class PayloadKey:
    id: str
    key: bytes


def parse_payload_keys(text: str) -> list[PayloadKey]:
    """`id:base64key,id:base64key,...` (first one encrypts) into keys; each key must be 32 bytes."""
    keys: list[PayloadKey] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key_id, separator, encoded = item.partition(":")
        key_id = key_id.strip()
        if not separator or not key_id:
            raise PayloadKeyError("PAYLOAD_KEYS: each entry is `id:base64key`")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error as error:
            raise PayloadKeyError(f"PAYLOAD_KEYS: key {key_id!r} is not valid base64") from error
        if len(key) != 32:
            raise PayloadKeyError(f"PAYLOAD_KEYS: key {key_id!r} must be 32 bytes (AES-256), not {len(key)}")
        if any(existing.id == key_id for existing in keys):
            raise PayloadKeyError(f"PAYLOAD_KEYS: key id {key_id!r} appears twice")
        keys.append(PayloadKey(id=key_id, key=key))
    if not keys:
        raise PayloadKeyError("PAYLOAD_KEYS: at least one key is needed")
    return keys


def new_key() -> str:
    """A fresh random key, base64, for PAYLOAD_KEYS (`python -c 'from core.codec import new_key; ...'`)."""
    return base64.b64encode(os.urandom(32)).decode()


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over whole payloads; the key id travels in the payload's metadata."""

    def __init__(self, keys: Sequence[PayloadKey]) -> None:
        super().__init__()
        if not keys:
            raise PayloadKeyError("the payload codec needs at least one key")
        self._current = keys[0]
        self._ciphers = {key.id: AESGCM(key.key) for key in keys}

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self._decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        cipher = self._ciphers[self._current.id]
        # The key id is authenticated with the data: a payload cannot be moved under another key's name.
        key_id = self._current.id.encode()
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id},
            data=nonce + cipher.encrypt(nonce, payload.SerializeToString(), key_id),
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before the codec (or by another client): plain, passes through
        key_id = payload.metadata.get(KEY_ID_METADATA, b"")
        cipher = self._ciphers.get(key_id.decode(errors="replace"))
        if cipher is None:
            name = key_id.decode(errors="replace")
            raise PayloadKeyError(f"payload encrypted with key {name!r}, which is not in PAYLOAD_KEYS")
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id)
        except InvalidTag as error:
            raise PayloadKeyError("payload failed authentication: wrong key or altered data") from error
        return Payload.FromString(plain)
