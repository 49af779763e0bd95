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

import asyncpg
import httpx
from temporalio.client import Client

from api.casework import visible_filters
from api.main import create_app
from bench.listing import SqlCapture, explain_analyze, load_rows, plan_line
from bench.measure import percentile
from core.services import Services
from core.settings import REPO_ROOT, Settings
from devstack.servers import start_postgres
from domain.models import Role
from domain.policy_files import load_policies
from store import queue_counts as queue_counts_sql
from store.complaints import OPEN_CLAUSE, count_complaints, search_complaints
from store.db import create_pool, migrate
from store.staff import DEMO_STAFF, StaffRepository, StaffUser
from web.layout import LONDON
from web.staff.queues import BY_SLUG, COUNT_CAP, PAGE_SIZE, QUEUES

PASSWORD = "bench"
USER = "ian.investigator"  # one of the synthetic assignees: My cases has rows
# Need-to-know and conflicts applied: an officer of three service areas (about half the complaints) who
# declared a conflict on 50 of them.
AREA_OFFICER = StaffUser(
    id="bench.area-officer",
    name="Area Officer",
    role=Role.COMPLAINTS_OFFICER,
    service_areas=["waste", "council-tax", "housing-repairs"],
)


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


async def timed_in_turn(client: httpx.AsyncClient, urls: list[str], repeats: int) -> list[dict[str, Any]]:
    """Each page `repeats` times, the pages in turn (page 1, 2, ... 1, 2, ...)."""
    latencies: dict[str, list[float]] = {url: [] for url in urls}
    rows: dict[str, int] = {}
    for _ in range(repeats):
        for url in urls:
            started = time.perf_counter()
            answer = await client.get(url)
            latencies[url].append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, (url, answer.status_code)
            rows[url] = answer.text.count('<tr class="govuk-table__row">') - 1
    return [
        {
            "url": re.sub(r"(q|after)=[^&]+", r"\1=...", url),
            "rows": rows[url],
            "p50_ms": round(percentile(values, 0.5), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "max_ms": round(max(values), 1),
        }
        for url, values in latencies.items()
    ]


async def sign_in(client: httpx.AsyncClient, user: str) -> None:
    start = await client.get("/staff/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', start.text)
    assert token
    signed = await client.post(
        "/staff/sign-in", data={"username": user, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert signed.status_code == 303, signed.text


async def declare_conflicts(pool: asyncpg.Pool) -> None:
    """The area-limited officer declared a conflict on 50 open complaints of their areas (idempotent)."""
    await pool.execute(
        "INSERT INTO staff_conflicts (reference, staff_id) SELECT reference, $1 FROM complaints"
        f" WHERE service_area = ANY($2::text[]) AND {OPEN_CLAUSE} ORDER BY reference LIMIT 50"
        " ON CONFLICT DO NOTHING",
        AREA_OFFICER.id,
        AREA_OFFICER.service_areas,
    )


async def explain_queues(pool: asyncpg.Pool, staff: StaffUser) -> list[dict[str, Any]]:
    """Each queue's page as this staff member's request runs it, and the counts as the page takes them (the
    kept counters, and the rows of the current hour for the due-soon queue): the plan and server time."""
    today = datetime.now(LONDON).date()
    statements: list[tuple[str, str, str, tuple[Any, ...]]] = []
    for queue in QUEUES:
        capture = SqlCapture()
        filters = visible_filters(queue.filters(staff, today), staff)
        await search_complaints(
            cast(Any, capture), filters=filters, sort="next_deadline", after=None, limit=PAGE_SIZE + 1
        )
        statements.append((queue.slug, "page", capture.sql, capture.args))
    statements.append(("five queues", "counters", queue_counts_sql._COUNTS, (staff.id, staff.service_areas)))
    due = BY_SLUG["due-soon"].filters(staff, today)
    assert due.deadline_from is not None and due.deadline_before is not None
    hours = queue_counts_sql.due_in_whole_hours(due.deadline_from, due.deadline_before)
    assert hours is not None
    statements.append(
        ("due-soon", "counters", queue_counts_sql._DUE, (staff.id, staff.service_areas, *hours))
    )
    capture = SqlCapture()
    this_hour = visible_filters(due.model_copy(update={"deadline_before": hours[0]}), staff)
    await count_complaints(cast(Any, capture), filters=this_hour, cap=COUNT_CAP)
    statements.append(("due-soon", "this hour", capture.sql, capture.args))
    found: list[dict[str, Any]] = []
    for name, part, sql, args in statements:
        plan = await explain_analyze(pool, sql, args)
        found.append(
            {
                "user": staff.id,
                "queue": name,
                "part": part,
                "server_ms": round(plan["Execution Time"], 2),
                "plan": plan_line(plan["Plan"]),
            }
        )
    return found


async def bench(scale: int, repeats: int, keep_data: Path | None = None) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="complaints-bench-console-"))
    # --keep-data: the database of an earlier run (this one's or bench.run's) is reused as it is.
    server = (
        start_postgres(keep_data, keep_data=True) if keep_data else start_postgres(folder, keep_data=False)
    )
    dsn = str(server.get_uri())
    try:
        pool = await create_pool(dsn, max_size=4)
        await migrate(pool)
        for user in [*DEMO_STAFF, AREA_OFFICER]:
            await StaffRepository(pool).upsert(user=user, password=PASSWORD)
        kept = keep_data and await pool.fetchval("SELECT EXISTS (SELECT 1 FROM complaints)")
        load_seconds = 0.0 if kept else await load_rows(dsn, scale, "{}")
        total = await pool.fetchval("SELECT count(*) FROM complaints")
        open_rows = await pool.fetchval(
            "SELECT count(*) FROM complaints WHERE status NOT IN ('closed', 'declined', 'withdrawn',"
            " 'escalation_refused')"
        )
        settings = Settings(
            environment="development", database_url=dsn, temporal_address="unused:7233", cookie_secure=False
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
        plans: list[dict[str, Any]] = []
        await declare_conflicts(pool)
        investigator = next(member for member in DEMO_STAFF if member.id == USER)
        for member in (investigator, AREA_OFFICER):
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await sign_in(client, member.id)
                pages = [f"/staff/queues/{queue.slug}" for queue in QUEUES]
                first = await client.get("/staff/queues/overdue")
                after = re.search(r'href="/staff/queues/overdue\?after=([^"]+)"', first.text)
                if after:
                    pages.append(f"/staff/queues/overdue?after={after.group(1)}")
                pages += [
                    "/staff/queues/overdue?q=Patel",
                    "/staff/queues/unassigned?q=CMP-2026-S00001",
                    "/staff/queues/overdue?policy=bexley&service_area=waste",
                ]
                # Every page once before timing (caches warm), then the pages in turn, so a change in the
                # machine's load falls on all of them alike.
                for url in pages:
                    await client.get(url)
                timings = await timed_in_turn(client, pages, repeats)
                results += [{"user": member.id, **timing} for timing in timings]
                export = await timed(client, "/staff/export/waiting.csv", max(3, repeats // 5))
                results.append({"user": member.id, **export})
            plans += await explain_queues(pool, member)
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
            "plans": plans,
        }
    finally:
        if keep_data is None:
            server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--scale", type=int, default=20_000, help="synthetic complaints")
    parser.add_argument("--repeats", type=int, default=40, help="timed requests per page")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "console.json")
    parser.add_argument(
        "--keep-data",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep the database in DIR (outside the repo) and reuse its rows on the next run",
    )
    args = parser.parse_args()
    result = asyncio.run(bench(args.scale, args.repeats, args.keep_data))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
