"""The staff console's queue pages at scale: `python -m bench.console --scale 1000000`.

Starts an embedded PostgreSQL in a temporary folder, loads synthetic complaints as bench/listing.py does
(COPY, then ANALYZE), signs a demo investigator in on the console's dev form and times every queue page
(its six counts, the page of 25 and the audit row: the whole request, in-process through the ASGI app, so
the figure is the server's time) with and without a search, plus the next page (keyset) and the CSV export.
No Temporal server is needed: a queue page reads PostgreSQL only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
from temporalio.client import Client

from api.main import create_app
from bench.listing import load_rows
from bench.measure import percentile
from core.services import Services
from core.settings import REPO_ROOT, Settings
from devstack.servers import start_postgres
from domain.policy_files import load_policies
from store.db import create_pool, migrate
from store.staff import DEMO_STAFF, StaffRepository

PASSWORD = "bench"
USER = "ian.investigator"  # one of the synthetic assignees: My cases has rows


async def timed(client: httpx.AsyncClient, url: str, repeats: int) -> dict[str, Any]:
    latencies: list[float] = []
    rows = 0
    for _ in range(repeats):
        started = time.perf_counter()
        answer = await client.get(url)
        latencies.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
        rows = (
            answer.text.count('<tr class="govuk-table__row">') - 1
            if "csv" not in url
            else answer.text.count("\n") - 1
        )
    return {
        "url": re.sub(r"q=[^&]+", "q=...", url),
        "rows": rows,
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
    }


async def bench(scale: int, repeats: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="complaints-bench-console-"))
    server = start_postgres(folder, keep_data=False)
    dsn = str(server.get_uri())
    try:
        pool = await create_pool(dsn, max_size=4)
        await migrate(pool)
        for user in DEMO_STAFF:
            await StaffRepository(pool).upsert(user=user, password=PASSWORD)
        load_seconds = await load_rows(dsn, scale, "{}")
        total = await pool.fetchval("SELECT count(*) FROM complaints")
        open_rows = await pool.fetchval(
            "SELECT count(*) FROM complaints WHERE status NOT IN ('closed', 'declined', 'withdrawn',"
            " 'escalation_refused')"
        )
        settings = Settings(
            environment="test", database_url=dsn, temporal_address="unused:7233", cookie_secure=False
        )
        # A queue page never calls Temporal: no client is connected.
        services = Services(
            settings=settings,
            pool=pool,
            temporal=cast(Client, None),
            policies=load_policies(REPO_ROOT / "policies"),
        )
        transport = httpx.ASGITransport(app=create_app(settings, services))
        results: list[dict[str, Any]] = []
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            start = await client.get("/staff/")
            token = re.search(r'name="csrf_token" value="([^"]+)"', start.text)
            assert token
            signed = await client.post(
                "/staff/sign-in", data={"username": USER, "password": PASSWORD, "csrf_token": token.group(1)}
            )
            assert signed.status_code == 303, signed.text
            for slug in ("mine", "unassigned", "due-soon", "overdue", "stage-2", "waiting"):
                results.append(await timed(client, f"/staff/queues/{slug}", repeats))
            first = await client.get("/staff/queues/overdue")
            after = re.search(r'href="/staff/queues/overdue\?after=([^"]+)"', first.text)
            if after:
                results.append(await timed(client, f"/staff/queues/overdue?after={after.group(1)}", repeats))
            results.append(await timed(client, "/staff/queues/overdue?q=Patel", repeats))
            results.append(await timed(client, "/staff/queues/unassigned?q=CMP-2026-S00001", repeats))
            results.append(
                await timed(client, "/staff/queues/overdue?policy=bexley&service_area=waste", repeats)
            )
            results.append(await timed(client, "/staff/export/waiting.csv", max(3, repeats // 5)))
        await pool.close()
        return {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "rows": total,
            "open_rows": open_rows,
            "load_seconds": round(load_seconds, 1),
            "repeats": repeats,
            "pages": results,
        }
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--scale", type=int, default=20_000, help="synthetic complaints")
    parser.add_argument("--repeats", type=int, default=40, help="timed requests per page")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "console.json")
    args = parser.parse_args()
    result = asyncio.run(bench(args.scale, args.repeats))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
