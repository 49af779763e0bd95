"""`make run` from nothing: the README's first command starts the whole stack with its demo complaints.

The stack runs as `make run` runs it (`python -m devstack.run`), in a fresh data folder and on free ports,
until it says it is running and `/readyz` answers; then Ctrl-C (SIGINT) stops everything it started.
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from core.settings import REPO_ROOT
from devstack.servers import free_port, port_free

RUNNING = "The complaints service is running"


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
        "INBOUND_SMTP_PORT": str(inbound_port := free_port()),
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
        reply_by_email_reaches_its_complaint(api_port, inbound_port, deadline)
    finally:
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stack.kill()
            raise
        log.close()
    assert port_free("127.0.0.1", 7233), "Ctrl-C left the Temporal dev server running"


def reply_by_email_reaches_its_complaint(api_port: int, inbound_port: int, deadline: float) -> None:
    """The README's walk-through: a resident's reply, sent over SMTP to the stack's inbound listener,
    reaches their complaint as new information, with its attachment as evidence."""
    api = f"http://127.0.0.1:{api_port}"
    login = urllib.parse.urlencode({"username": "olivia.officer", "password": "demo"}).encode()
    with urllib.request.urlopen(f"{api}/api/auth/token", data=login, timeout=10) as answer:
        token = json.load(answer)["access_token"]

    def get(path: str) -> Any:
        request = urllib.request.Request(f"{api}{path}", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)

    first = min(item["reference"] for item in get("/api/complaints?limit=100")["items"])
    case = get(f"/api/complaints/{first}")
    reply = EmailMessage()
    reply["From"] = f"Demo Resident <{case['complainant']['email']}>"
    reply["To"] = f"complaints+{first}@council.example"
    reply["Subject"] = "Re: your complaint"
    reply.set_content("The damp has spread to the hallway.\n\nOn Friday, Complaints wrote:\n> Thank you.")
    reply.add_attachment(b"\xff\xd8\xff\xe0photo", maintype="image", subtype="jpeg", filename="hallway.jpg")
    with smtplib.SMTP("127.0.0.1", inbound_port, timeout=30) as server:
        server.send_message(reply)
    while True:
        case = get(f"/api/complaints/{first}")
        added = [item for item in case["history"] if item["action"] == "add_information"]
        if added:
            break
        assert time.monotonic() < deadline, "the reply never reached its complaint"
        time.sleep(0.5)
    assert added[-1]["actor"] == "inbound-email"
    assert added[-1]["detail"]["summary"] == "The damp has spread to the hallway."
    assert [item["filename"] for item in case["attachments"]] == ["hallway.jpg"]
