"""`make run` from nothing: the README's first command starts the whole stack with its demo complaints.

The stack runs as `make run` runs it (`python -m devstack.run`), in a fresh data folder and on free ports,
until it says it is running and `/readyz` answers; then Ctrl-C (SIGINT) stops everything it started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.settings import REPO_ROOT
from devstack.servers import port_free

RUNNING = "The complaints service is running"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def readiness(api_port: int, deadline: float) -> object:
    """`/readyz` once the API process listens (it starts as the stack says it is running)."""
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/readyz", timeout=10) as ready:
                return json.load(ready)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_make_run_starts_the_stack_with_demo_complaints_from_a_fresh_data_folder(tmp_path: Path) -> None:
    if not port_free("127.0.0.1", 7233):
        pytest.skip("the dev stack's Temporal port 7233 is taken by another server")
    api_port = free_port()
    env = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "TEMPORAL_ADDRESS")
    } | {
        "DATA_DIR": str(tmp_path / "data"),
        "API_PORT": str(api_port),
        "TEMPORAL_UI_PORT": str(free_port()),
        "SMTP_PORT": str(free_port()),
        "WORKER_METRICS_PORT": str(free_port()),
        "TEMPORAL_METRICS_PORT": str(free_port()),
    }
    log = (tmp_path / "run.log").open("w+b")
    stack = subprocess.Popen(
        [sys.executable, "-m", "devstack.run"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 180
        output = ""
        while RUNNING not in output:
            assert stack.poll() is None, f"the stack stopped:\n{output[-3000:]}"
            assert time.monotonic() < deadline, f"the stack did not start:\n{output[-3000:]}"
            time.sleep(1)
            output = (tmp_path / "run.log").read_text(errors="replace")
        assert f"({6} demo complaints added)" in output
        assert readiness(api_port, deadline) == {
            "status": "ready",
            "checks": {"postgres": "ok", "temporal": "ok"},
        }
    finally:
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stack.kill()
            raise
        log.close()
    assert port_free("127.0.0.1", 7233), "Ctrl-C left the Temporal dev server running"
