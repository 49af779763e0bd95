"""One place that builds Temporal clients: the API, the worker, the tests and the replayer all use it, so
they share the data converter (and, later, the payload codec that encrypts personal data)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime

from core.search_attributes import SEARCH_ATTRIBUTE_TYPES

__all__ = ["SEARCH_ATTRIBUTE_TYPES", "connect", "data_converter", "workflow_id"]


def data_converter() -> DataConverter:
    return pydantic_data_converter


def workflow_id(reference: str) -> str:
    return f"complaint-{reference}"


async def connect(address: str, namespace: str = "default", *, runtime: Runtime | None = None) -> Client:
    """`runtime`: the worker passes one that exports the SDK's metrics to Prometheus (None: the default)."""
    return await Client.connect(
        address, namespace=namespace, data_converter=data_converter(), runtime=runtime
    )
