"""`make run`: the whole stack in the foreground, with demo data; Ctrl-C stops everything it started.

Embedded PostgreSQL (data under .data/postgres) and the Temporal dev server with its Web UI (state in
.data/temporal/temporal.db) are started unless DATABASE_URL / TEMPORAL_ADDRESS name servers to use instead.
The worker, the API and the inbound e-mail listener (INBOUND_SMTP_PORT, 2525) run as their own processes, as
they would in production. E-mail goes to a local SMTP catcher (devstack/mail.py) when SMTP_HOST is this
machine (the default); the API lists them at /dev/mail.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.settings import Settings, get_settings
from devstack.demo import DEMO_PASSWORD, seed_complaints, seed_staff
from devstack.servers import (
    register_search_attributes,
    start_postgres,
    start_temporal_dev_server,
    stop_process_group,
    wait_for_temporal,
)
from domain.policy_files import load_policies
from store.db import create_pool, migrate


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen[bytes], name: str) -> None:
    stop_process_group(process)
    print(f"stopped {name}")


async def _prepare(settings: Settings, database_url: str, temporal_address: str) -> None:
    """What the worker and the API need before they start: the schema, the demo staff, the search
    attributes."""
    pool = await create_pool(database_url)
    try:
        await migrate(pool)
        await seed_staff(pool)
        client = await wait_for_temporal(temporal_address, settings.temporal_namespace)
        await register_search_attributes(client, SEARCH_ATTRIBUTE_TYPES, client.namespace)
    finally:
        await pool.close()


async def _seed(settings: Settings, database_url: str, temporal_address: str) -> int:
    """The demo complaints, opened as the API opens one (Update-with-Start): the worker must be running, as
    each waits for its workflow's first record."""
    policies = load_policies(settings.policies_dir)
    pool = await create_pool(database_url)
    try:
        client = await wait_for_temporal(temporal_address, settings.temporal_namespace)
        return await seed_complaints(pool, client, settings.task_queue, policies)
    finally:
        await pool.close()


def _interrupt(signum: int, frame: object) -> None:
    # The first Ctrl-C (or SIGTERM) starts the clean-up; any repeat is ignored so it cannot cut it short
    # and leave servers running.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    # Ctrl-C and SIGTERM (e.g. from a supervisor) stop the stack cleanly, once.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    settings = get_settings()
    data_dir = settings.data_dir
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    postgres = None
    try:
        database_url = settings.database_url
        if not database_url:
            postgres = start_postgres(data_dir / "postgres")
            database_url = str(postgres.get_uri())
            print(f"PostgreSQL (embedded) at {database_url}")
        temporal_address = settings.temporal_address
        if not temporal_address:
            temporal_address = "127.0.0.1:7233"
            temporal = start_temporal_dev_server(
                data_dir / "temporal",
                ui_port=settings.temporal_ui_port,
                # The UI reads payloads (encrypted by the payload codec) through the API's codec endpoints.
                codec_endpoint=f"http://{settings.api_host}:{settings.api_port}/codec",
            )
            children.append(("temporal dev server", temporal))
            print(
                f"Temporal dev server at {temporal_address} (log: {data_dir / 'temporal' / 'temporal.log'})"
            )
        asyncio.run(_prepare(settings, database_url, temporal_address))
        env = {**os.environ, "DATABASE_URL": database_url, "TEMPORAL_ADDRESS": temporal_address}
        # The dev UI calls the codec endpoints from the browser, from its own origin (CORS).
        ui_port = settings.temporal_ui_port
        env.setdefault("TEMPORAL_UI_ORIGINS", f"http://127.0.0.1:{ui_port},http://localhost:{ui_port}")
        mail_note = f"(NOTIFICATION_CHANNEL={settings.notification_channel})"
        if settings.notification_channel == "smtp" and settings.smtp_host in ("127.0.0.1", "localhost"):
            # E-mail goes to a local catcher: nothing leaves the machine, every message is kept as a file.
            env |= {"SMTP_HOST": settings.smtp_host, "SMTP_PORT": str(settings.smtp_port)}
            catcher = _spawn([sys.executable, "-m", "devstack.mail"], env, logs / "mail.log")
            children.append(("SMTP catcher", catcher))
            mail_note = (
                f"(SMTP catcher on {settings.smtp_host}:{settings.smtp_port}, files in {data_dir / 'mail'})"
            )
        children.append(("worker", _spawn([sys.executable, "-m", "worker"], env, logs / "worker.log")))
        inbound_note = f"(INBOUND_MODE={settings.inbound_mode})"
        if settings.inbound_mode != "off":
            # Inbound e-mail: replies to the service's letters, and mail to the complaints address.
            inbound = _spawn([sys.executable, "-m", "inbound"], env, logs / "inbound.log")
            children.append(("inbound e-mail", inbound))
            if settings.inbound_mode == "smtp":
                listens = f"{settings.inbound_smtp_host}:{settings.inbound_smtp_port}"
                inbound_note = f"SMTP on {listens}, any address"
        seeded = asyncio.run(_seed(settings, database_url, temporal_address))
        api_args = [sys.executable, "-m", "uvicorn", "--factory", "api.main:app"]
        api_args += ["--host", settings.api_host, "--port", str(settings.api_port)]
        api_args += ["--no-proxy-headers"]  # the app applies FORWARDED_ALLOW_IPS itself
        children.append(("api", _spawn(api_args, env, logs / "api.log")))
        api = f"http://{settings.api_host}:{settings.api_port}"
        print(
            f"""
The complaints service is running ({seeded} demo complaints added).
  API:              {api}   (docs: {api}/docs)
  Resident pages:   {api}/
  Temporal Web UI:  http://127.0.0.1:{settings.temporal_ui_port}
  E-mail sent:      {api}/dev/mail   {mail_note}
  E-mail received:  {inbound_note}; triage at {api}/api/triage
  Metrics:          {api}/metrics   worker: http://{settings.metrics_host}:{settings.worker_metrics_port}/metrics
  Logs:             {logs}
Get a token (demo users: olivia.officer, ian.investigator, rita.reviewer, maya.manager, adam.admin,
aude.auditor; password "{DEMO_PASSWORD}"):
  curl -s -X POST {api}/api/auth/token -d username=olivia.officer -d password={DEMO_PASSWORD}
Press Ctrl-C to stop everything.""",
            flush=True,
        )
        while True:
            for name, process in children:
                if process.poll() is not None:
                    raise SystemExit(f"{name} exited with code {process.returncode}; see {logs}")
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping...")
    finally:
        # Also when the stack stops for another reason (a child exited): nothing may interrupt the clean-up.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for name, process in reversed(children):
            _stop(process, name)
        if postgres is not None:
            postgres.cleanup()
            print("stopped PostgreSQL")


if __name__ == "__main__":
    main()
