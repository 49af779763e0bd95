"""One place that builds Temporal clients: the API, the worker, the tests and the replayer all use it, so
they share the data converter (and, later, the payload codec that encrypts personal data)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from core.search_attributes import SEARCH_ATTRIBUTE_TYPES

__all__ = ["SEARCH_ATTRIBUTE_TYPES", "RequestDeadline", "connect", "data_converter", "workflow_id"]


def data_converter() -> DataConverter:
    return pydantic_data_converter


def workflow_id(reference: str) -> str:
    return f"complaint-{reference}"


class RequestDeadline(Interceptor):
    """Bounds how long a request waits for Temporal to start a workflow or accept an update.

    Without it a staff action waits for ever while no worker runs (the client keeps re-polling until the
    update is accepted), and a start retries for many seconds while the server is down. Past the deadline
    the call fails as timed out, and the API answers 503 with Retry-After (api/errors.py). Nothing is lost
    by giving up: a retried action carries the same update id, and Temporal applies an update once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Deadline(next, self.seconds)


class _Deadline(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, seconds: float) -> None:
        super().__init__(next)
        self._seconds = seconds

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.rpc_timeout = input.rpc_timeout or timedelta(seconds=self._seconds)
        try:
            return await asyncio.wait_for(super().start_workflow(input), self._seconds)
        except TimeoutError as error:
            raise RPCError("workflow start timed out", RPCStatusCode.DEADLINE_EXCEEDED, b"") from error

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        input.rpc_timeout = input.rpc_timeout or timedelta(seconds=self._seconds)
        try:
            return await asyncio.wait_for(super().start_workflow_update(input), self._seconds)
        except TimeoutError as error:
            raise WorkflowUpdateRPCTimeoutOrCancelledError() from error

    async def start_update_with_start_workflow(
        self, input: StartWorkflowUpdateWithStartInput
    ) -> WorkflowUpdateHandle[Any]:
        input.rpc_timeout = input.rpc_timeout or timedelta(seconds=self._seconds)
        try:
            return await asyncio.wait_for(super().start_update_with_start_workflow(input), self._seconds)
        except TimeoutError as error:
            raise WorkflowUpdateRPCTimeoutOrCancelledError() from error


async def connect(
    address: str,
    namespace: str = "default",
    *,
    lazy: bool = False,
    interceptors: Sequence[Interceptor] = (),
) -> Client:
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=data_converter(),
        lazy=lazy,
        interceptors=interceptors,
    )
