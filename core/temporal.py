"""One place that builds Temporal clients: the API, the worker, the tests and the replayer all use it, so
they share the data converter and its payload codec (core/codec.py), which encrypts personal data."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from core.codec import DEV_PAYLOAD_KEYS, EncryptionCodec, parse_payload_keys
from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.settings import Settings, get_settings

__all__ = ["SEARCH_ATTRIBUTE_TYPES", "connect", "data_converter", "history_converter", "workflow_id"]


def data_converter(settings: Settings | None = None) -> DataConverter:
    """Pydantic payloads, encrypted by the payload codec with the keys of PAYLOAD_KEYS (the first encrypts,
    all decrypt). Failure messages and stack traces are encoded too: a refusal's reason may quote a case."""
    keys = parse_payload_keys((settings or get_settings()).payload_keys_or_dev)
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def history_converter() -> DataConverter:
    """The converter of the committed histories (tests/histories/): recorded under the fixed dev key (or
    plain, before the codec), so they replay whatever PAYLOAD_KEYS the machine has."""
    return data_converter(Settings(_env_file=None, environment="test", payload_keys=DEV_PAYLOAD_KEYS))


def workflow_id(reference: str) -> str:
    return f"complaint-{reference}"


async def connect(address: str, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=data_converter())
