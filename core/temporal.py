"""One place that builds Temporal clients: the API, the worker, the CLI, the tests and the replayer use it,
so they share the data converter (with its payload codec, core/codec.py, which encrypts personal data) and
the connection configuration.

The connection comes from the Temporal SDK's own environment configuration (`temporalio.envconfig`): the
`TEMPORAL_*` variables (address, namespace, API key, TLS client certificate, key and CA) and the profiles of
a TOML file, the same ones the `temporal` CLI reads. The settings class carries those variables (so they may
also come from `.env`) and hands them to the SDK, which merges them over the profile and builds TLS options.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
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
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.envconfig import ClientConfigProfile, ClientConnectConfig
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from core.codec import DEV_PAYLOAD_KEYS, EncryptionCodec, parse_payload_keys
from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.settings import Settings, get_settings

__all__ = [
    "SEARCH_ATTRIBUTE_TYPES",
    "RequestDeadline",
    "TemporalConfigError",
    "connect",
    "connect_options",
    "data_converter",
    "history_converter",
    "sdk_environment",
    "workflow_id",
]

DEFAULT_NAMESPACE = "default"


class TemporalConfigError(ValueError):
    """The Temporal connection settings or profile file cannot make a connection (no traceback)."""


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


def sdk_environment(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The variables the SDK's loader reads: the process's own `TEMPORAL_*` ones (e.g. `TEMPORAL_GRPC_META_*`
    or the `*_DATA` forms of the certificates), overlaid by the settings, which may also come from `.env`."""
    environment = {key: value for key, value in environ.items() if key.startswith("TEMPORAL_")}
    values: dict[str, str | Path | bool | None] = {
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "TEMPORAL_API_KEY": (
            settings.temporal_api_key.get_secret_value() if settings.temporal_api_key is not None else None
        ),
        "TEMPORAL_TLS": settings.temporal_tls,
        "TEMPORAL_TLS_CLIENT_CERT_PATH": settings.temporal_tls_client_cert_path,
        "TEMPORAL_TLS_CLIENT_KEY_PATH": settings.temporal_tls_client_key_path,
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": settings.temporal_tls_server_ca_cert_path,
        "TEMPORAL_TLS_SERVER_NAME": settings.temporal_tls_server_name,
        "TEMPORAL_PROFILE": settings.temporal_profile,
        "TEMPORAL_CONFIG_FILE": settings.temporal_config_file,
    }
    for key, value in values.items():
        if value is None:
            continue
        environment[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return environment


def connect_options(
    address: str | None = None,
    namespace: str | None = None,
    *,
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientConnectConfig:
    """The keyword arguments of `Client.connect` (less the data converter): the profile file (if any), then
    the environment over it, then an explicit `address` / `namespace` (the dev stack's and tests' servers)."""
    settings = settings if settings is not None else get_settings()
    environment = sdk_environment(settings, os.environ if environ is None else environ)
    config_file = environment.get("TEMPORAL_CONFIG_FILE")
    try:
        profile = ClientConfigProfile.load(
            profile=environment.get("TEMPORAL_PROFILE"),
            config_source=Path(config_file) if config_file else None,
            # Only a file the configuration names: a developer's ~/.config/temporalio/temporal.toml must not
            # silently point the service at another cluster.
            disable_file=not config_file,
            config_file_strict=True,
            override_env_vars=environment,
        )
        options = profile.to_client_connect_config()  # reads the certificate files
    except (RuntimeError, OSError) as exc:  # the SDK's ConfigError is a RuntimeError
        raise TemporalConfigError(f"Temporal connection configuration: {exc}") from exc
    if address is not None:
        options["target_host"] = address
    if namespace is not None:
        options["namespace"] = namespace
    if not options.get("target_host"):
        raise TemporalConfigError("no Temporal address: set TEMPORAL_ADDRESS or a profile with an address")
    options.setdefault("namespace", DEFAULT_NAMESPACE)
    return options


async def connect(
    address: str | None = None,
    namespace: str | None = None,
    *,
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
    lazy: bool = False,
    interceptors: Sequence[Interceptor] = (),
    runtime: Runtime | None = None,
) -> Client:
    """A client for the configured Temporal (see `connect_options`), always with the service's converter.
    `lazy`: connect at the first call (the API starts, and answers 503, while Temporal is down);
    `interceptors`: the API's `RequestDeadline`; `runtime`: the worker's, exporting the SDK's metrics."""
    options: dict[str, Any] = dict(connect_options(address, namespace, settings=settings, environ=environ))
    return await Client.connect(
        **options,
        data_converter=data_converter(settings),
        lazy=lazy,
        interceptors=interceptors,
        runtime=runtime,
    )


class RequestDeadline(Interceptor):
    """Bounds how long a request waits for Temporal to start a workflow or accept an update.

    Without it a staff action waits for ever while no worker runs (the client keeps re-polling until the
    update is accepted), and a start retries for many seconds while the server is down. Past the deadline
    the call fails as timed out, and the API answers 503 with Retry-After (api/errors.py). Nothing is lost
    by giving up: a retried action carries the same update id, and Temporal applies an update once. A call
    that sets its own `rpc_timeout` waits that long instead: the opening of a complaint (api/intake.py
    OPEN_TIMEOUT) must outlast its first workflow task's timeout.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Deadline(next, self.seconds)


class _Deadline(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, seconds: float) -> None:
        super().__init__(next)
        self._seconds = seconds

    def _bound(self, rpc_timeout: timedelta | None) -> timedelta:
        """The caller's own timeout if it set one, else the deadline."""
        return rpc_timeout or timedelta(seconds=self._seconds)

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.rpc_timeout = self._bound(input.rpc_timeout)
        try:
            return await asyncio.wait_for(super().start_workflow(input), input.rpc_timeout.total_seconds())
        except TimeoutError as error:
            raise RPCError("workflow start timed out", RPCStatusCode.DEADLINE_EXCEEDED, b"") from error

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        input.rpc_timeout = self._bound(input.rpc_timeout)
        try:
            return await asyncio.wait_for(
                super().start_workflow_update(input), input.rpc_timeout.total_seconds()
            )
        except TimeoutError as error:
            raise WorkflowUpdateRPCTimeoutOrCancelledError() from error

    async def start_update_with_start_workflow(
        self, input: StartWorkflowUpdateWithStartInput
    ) -> WorkflowUpdateHandle[Any]:
        input.rpc_timeout = self._bound(input.rpc_timeout)
        try:
            return await asyncio.wait_for(
                super().start_update_with_start_workflow(input), input.rpc_timeout.total_seconds()
            )
        except TimeoutError as error:
            raise WorkflowUpdateRPCTimeoutOrCancelledError() from error
