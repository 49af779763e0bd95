"""The payload codec (AES-256-GCM, key id in the metadata, rotation) and the audit trail's redaction."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

import pytest
from temporalio.api.common.v1 import Payload

from core.codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadKeyError,
    parse_payload_keys,
)
from core.temporal import data_converter
from domain.models import Complainant
from domain.retention import years_before
from store.audit import keyed_hash, redact

OLD = "k1:" + base64.b64encode(b"1" * 32).decode()
NEW = "k2:" + base64.b64encode(b"2" * 32).decode()
PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"name": "Ada Resident"}')


async def test_a_payload_is_encrypted_with_the_first_key_and_names_it() -> None:
    codec = EncryptionCodec(parse_payload_keys(f"{NEW},{OLD}"))
    [encrypted] = await codec.encode([PLAIN])
    assert encrypted.metadata["encoding"] == ENCODING
    assert encrypted.metadata[KEY_ID_METADATA] == b"k2"
    assert b"Ada" not in encrypted.SerializeToString()
    assert await codec.decode([encrypted]) == [PLAIN]
    # A fresh nonce each time: the same payload never encrypts to the same bytes.
    assert (await codec.encode([PLAIN]))[0].data != encrypted.data


async def test_rotation_old_payloads_still_decode_and_a_removed_key_is_named() -> None:
    [under_old] = await EncryptionCodec(parse_payload_keys(OLD)).encode([PLAIN])
    rotated = EncryptionCodec(parse_payload_keys(f"{NEW},{OLD}"))
    assert await rotated.decode([under_old]) == [PLAIN]
    with pytest.raises(PayloadKeyError, match="'k1'"):
        await EncryptionCodec(parse_payload_keys(NEW)).decode([under_old])


async def test_plain_payloads_written_before_the_codec_pass_through() -> None:
    codec = EncryptionCodec(parse_payload_keys(OLD))
    assert await codec.decode([PLAIN]) == [PLAIN]


async def test_altered_ciphertext_or_a_swapped_key_id_is_refused() -> None:
    codec = EncryptionCodec(parse_payload_keys(f"{OLD},{NEW}"))
    [encrypted] = await codec.encode([PLAIN])
    altered = Payload(metadata=encrypted.metadata, data=encrypted.data[:-1] + bytes([encrypted.data[-1] ^ 1]))
    with pytest.raises(PayloadKeyError, match="authentication"):
        await codec.decode([altered])
    swapped = Payload(metadata={**encrypted.metadata, KEY_ID_METADATA: b"k2"}, data=encrypted.data)
    with pytest.raises(PayloadKeyError):
        await codec.decode([swapped])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "at least one"),
        ("no-colon", "id:base64key"),
        ("k1:not base64!", "base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "32 bytes"),
        (f"{OLD},{OLD}", "twice"),
    ],
)
def test_malformed_keys_are_refused(text: str, reason: str) -> None:
    with pytest.raises(PayloadKeyError, match=reason):
        parse_payload_keys(text)


async def test_the_one_data_converter_encrypts_pydantic_payloads() -> None:
    converter = data_converter()
    [payload] = await converter.encode([Complainant(name="Ada Resident", email="ada@example.org")])
    assert payload.metadata["encoding"] == ENCODING
    assert b"ada@example.org" not in payload.SerializeToString()
    [back] = await converter.decode([payload], [Complainant])
    assert back == Complainant(name="Ada Resident", email="ada@example.org")


def test_audit_redaction_keeps_codes_and_hides_free_text() -> None:
    request = {
        "outcome": "partially_upheld",
        "findings": "Ada Resident's damp was ignored.",
        "remedies": [{"kind": "apology", "description": "Sorry, Ada."}],
        "new_respond_by": date(2027, 1, 15),
        "amount_pence": 15000,
        "agreed": True,
    }
    redacted = redact(request, "key")
    assert redacted["outcome"] == "partially_upheld"
    assert redacted["remedies"][0]["kind"] == "apology"
    assert redacted["new_respond_by"] == "2027-01-15"
    assert (redacted["amount_pence"], redacted["agreed"]) == (15000, True)
    findings = "Ada Resident's damp was ignored."
    assert redacted["findings"] == {"chars": len(findings), "hmac": keyed_hash(findings, "key")}
    assert "Ada" not in str(redacted)
    # Keyed: the same words under another key give another hash (no dictionary of known texts helps).
    assert redact(request, "other")["findings"]["hmac"] != redacted["findings"]["hmac"]


def test_retention_years_never_end_early_on_29_february() -> None:
    leap = datetime(2032, 2, 29, 10, 0, tzinfo=UTC)
    assert years_before(leap, 7) == datetime(2025, 2, 28, 10, 0, tzinfo=UTC)
    assert years_before(datetime(2033, 3, 3, 10, tzinfo=UTC), 7) == datetime(2026, 3, 3, 10, tzinfo=UTC)
