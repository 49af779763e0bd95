"""`make bench`: service rates and list-query latencies, each against the raw engine in the same run.

Starts its own embedded PostgreSQL and Temporal dev server in a temporary folder (on free ports), runs the
worker in this process, prints a table and writes JSON. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from bench.engine import measure_engine
from bench.floor import ALL_PARTS, Floor, FloorParts, FloorRecorder
from bench.http import measure_http, serve_api, walkthrough_history
from bench.listing import load_rows, measure_list
from bench.measure import SERVER_PIDS
from bench.noop import TASK_QUEUE, Landed, Noop
from bench.reports import load_facts, measure_reports
from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.settings import REPO_ROOT
from devstack.servers import (
    port_free,
    register_search_attributes,
    start_postgres,
    start_temporal_dev_server,
    stop_process_group,
    wait_for_temporal,
)
from domain.policy_files import load_policies
from store.db import create_pool, migrate
from worker import build_worker

SERVICE_QUEUE = "bench-complaints"
# Used for synthetic rows when no complaint went through the engine (--skip-engine): roughly the size of a
# real complaint's stored state.
FALLBACK_STATE = json.dumps({"reference": "synthetic", "ledger": ["x" * 64] * 40})


def free_port(preferred: int) -> int:
    if port_free("127.0.0.1", preferred):
        return preferred
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Stack:
    dsn: str
    pool: asyncpg.Pool
    client: Client | None


@asynccontextmanager
async def stack(
    folder: Path, *, with_temporal: bool, port: int, ui_port: int, keep_data: Path | None = None
) -> AsyncIterator[Stack]:
    # With --keep-data the database lives in that folder and survives the run: generating 1,000,000 rows
    # takes tens of minutes on a shared machine, so a second run reuses them and only measures.
    postgres = (
        start_postgres(keep_data, keep_data=True)
        if keep_data
        else start_postgres(folder / "postgres", keep_data=False)
    )
    temporal: subprocess.Popen[bytes] | None = None
    try:
        dsn = str(postgres.get_uri())
        SERVER_PIDS["postgres"] = postgres.get_pid() or 0
        pool = await create_pool(dsn, max_size=20)
        try:
            await migrate(pool)
            client = None
            if with_temporal:
                port, ui_port = free_port(port), free_port(ui_port)
                temporal = start_temporal_dev_server(folder / "temporal", port=port, ui_port=ui_port)
                SERVER_PIDS["temporal"] = temporal.pid
                client = await wait_for_temporal(f"127.0.0.1:{port}")
                await register_search_attributes(client, SEARCH_ATTRIBUTE_TYPES)
            yield Stack(dsn, pool, client)
        finally:
            await pool.close()
    finally:
        if temporal is not None:
            stop_process_group(temporal)
        if keep_data is None:
            postgres.cleanup()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="complaints-bench-"))
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "params": {
            "complaints": args.complaints,
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "scale": args.scale,
            "repeats": args.repeats,
            "report_repeats": args.report_repeats,
            "floor_parts": args.floor_parts.label,
        },
    }
    try:
        async with stack(
            folder,
            with_temporal=not args.skip_engine,
            port=args.temporal_port,
            ui_port=args.ui_port,
            keep_data=args.keep_data,
        ) as servers:
            pool = servers.pool
            state = FALLBACK_STATE
            if servers.client is not None:
                policies = load_policies(REPO_ROOT / "policies")
                landed = Landed()
                floor = FloorRecorder(pool)
                await floor.prepare()
                raw_worker = Worker(
                    servers.client,
                    task_queue=TASK_QUEUE,
                    workflows=[Noop, Floor],
                    activities=[landed.noop, floor.record],
                )
                async with raw_worker, build_worker(servers.client, SERVICE_QUEUE, pool, policies):
                    started = time.perf_counter()
                    engine = await measure_engine(
                        pool=pool,
                        client=servers.client,
                        task_queue=SERVICE_QUEUE,
                        policies=policies,
                        landed=landed,
                        complaints=args.complaints,
                        concurrency=args.concurrency,
                        rounds=args.rounds,
                        py_spy=args.py_spy,
                        profile=args.profile and args.profile.with_suffix(".engine-actions.txt"),
                        floor_parts=args.floor_parts,
                    )
                    result["engine"] = engine.summary()
                    result["engine"]["wall_seconds"] = round(time.perf_counter() - started, 1)
                    if not args.skip_http:
                        async with serve_api(pool, servers.client, SERVICE_QUEUE, policies) as (
                            http,
                            settings,
                        ):
                            started = time.perf_counter()
                            through_http = await measure_http(
                                http=http,
                                settings=settings,
                                client=servers.client,
                                landed=landed,
                                policies=policies,
                                complaints=args.complaints,
                                concurrency=args.concurrency,
                                rounds=args.rounds,
                                py_spy=args.py_spy,
                                profile=args.profile and args.profile.with_suffix(".http-actions.txt"),
                            )
                            result["http"] = through_http.summary()
                            result["http"]["wall_seconds"] = round(time.perf_counter() - started, 1)
                            try:
                                result["walkthrough"] = await walkthrough_history(
                                    http, settings, servers.client
                                )
                            except Exception as error:  # the rates above still count: report both
                                result["walkthrough_error"] = repr(error)
                real = await pool.fetchval(
                    "SELECT state::text FROM complaints WHERE state IS NOT NULL LIMIT 1"
                )
                state = real or state
            if args.skip_list:
                return result
            # A kept database is reused as it is (its rows were generated by the run that created it).
            kept = await pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM complaints WHERE reference LIKE 'CMP-%-S%')"
            )
            seconds = 0.0 if kept and args.keep_data else await load_rows(servers.dsn, args.scale, state)
            total = await pool.fetchval("SELECT count(*) FROM complaints")
            size = await pool.fetchval("SELECT pg_size_pretty(pg_total_relation_size('complaints'))")
            result["list"] = {
                "rows": total,
                "table_size": size,
                "state_bytes": len(state),
                "load_seconds": round(seconds, 1),
                **await measure_list(pool, args.repeats),
            }
            has_facts = await pool.fetchval("SELECT EXISTS (SELECT 1 FROM complaint_stages)")
            facts_seconds = 0.0 if has_facts and args.keep_data else await load_facts(pool)
            result["reports"] = {
                "load_seconds": round(facts_seconds, 1),
                **await measure_reports(
                    pool,
                    load_policies(REPO_ROOT / "policies"),
                    args.report_repeats,
                    before=not args.skip_before,
                ),
            }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def print_table(result: dict[str, Any]) -> None:
    params = result["params"]
    print(f"\nbench {result['date']}  cpus={result['machine']['cpus']}  {params}")
    if "engine" in result:
        print(f"\n{'rate (concurrency ' + str(params['concurrency']) + ')':34} {'/s':>7} {'p50 ms':>7} "
              f"{'p95 ms':>7}  cpu ms/op: {'python':>6} {'temporal':>8} {'pg':>5}  ratio")  # fmt: skip
        labels = {"intake": ("intake: open_case + first record", "raw: start + no-op activity"),
                  "actions": ("acknowledge: update + record", "raw: no-op update"),
                  "floor": (f"floor: {params['floor_parts']}", "raw: no-op update (again)")}  # fmt: skip
        for key, (service_label, raw_label) in labels.items():
            figures = result["engine"][key]
            for label, side, ratio in (
                (service_label, figures["service"], f"{figures['ratio']:.2f}"),
                (raw_label, figures["raw"], ""),
            ):
                cpu = [side.get(f"{name}_cpu_ms_per_op", 0.0) for name in ("python", "temporal", "postgres")]
                print(
                    f"{label:34} {side['per_second']:7.1f} {side['p50_ms']:7.1f} {side['p95_ms']:7.1f}"
                    f"  {'':10} {cpu[0]:6.1f} {cpu[1]:8.1f} {cpu[2]:5.1f}  {ratio}"
                )
    if "http" in result:
        print(f"\n{'through the HTTP API':34} {'/s':>7} {'p50 ms':>7} {'p99 ms':>7}  ratio  p99 ratio")
        labels = {"intake": ("POST /api/complaints", "raw: start + no-op activity"),
                  "actions": ("POST .../acknowledge", "raw: no-op update")}  # fmt: skip
        for key, (service_label, raw_label) in labels.items():
            figures = result["http"][key]
            for label, side, ratio in (
                (service_label, figures["service"], f"{figures['ratio']:.2f}   {figures['p99_ratio']:.2f}"),
                (raw_label, figures["raw"], ""),
            ):
                print(
                    f"{label:34} {side['per_second']:7.1f} {side['p50_ms']:7.1f}"
                    f" {side['p99_ms']:7.1f}  {ratio}"
                )
    if "walkthrough_error" in result:
        print(f"\nREADME walk-through failed: {result['walkthrough_error']}")
    if "walkthrough" in result:
        walk = result["walkthrough"]
        print(
            f"\nREADME walk-through: {walk['history_events']} events,"
            f" {walk['history_bytes']} bytes of history;"
            f" each further note adds {walk['bytes_per_further_note']} bytes"
        )
    if "list" not in result:
        return
    listing = result["list"]
    print(
        f"\nlist query: {listing['rows']} rows ({listing['table_size']}),"
        f" loaded in {listing['load_seconds']} s"
    )
    for name, figures in listing["baselines"].items():
        print(f"  {'baseline ' + name:30} p50 {figures['p50_ms']:7.2f} ms  p95 {figures['p95_ms']:7.2f} ms")
    print(
        f"  {'query':18} {'rows':>4} {'p50':>7} {'p95':>7} {'x SELECT 1':>10} {'x bare':>7} {'sql':>6}"
        "  plan (server ms)"
    )
    for query in listing["queries"]:
        print(
            f"  {query['name']:18} {query['rows']:4} {query['p50_ms']:7.2f} {query['p95_ms']:7.2f}"
            f" {query['ratio_p50_vs_select_1']:10.1f} {query['ratio_p50_vs_bare_page']:7.2f}"
            f" {query['same_sql_fetch_p50_ms']:6.2f}"
            f"  custom: {query['plan']} ({query['server_ms']:.2f})"
        )
        used = query["plans_used"]
        print(
            f"  {'':64}  generic: {query['generic_plan']} ({query['generic_server_ms']:.2f})"
            f"  runs: {used.get('custom', '?')} custom, {used.get('generic', '?')} generic"
        )


def print_reports(result: dict[str, Any]) -> None:
    figures = result["reports"]
    print(
        f"\nreports, financial year {figures['year']}: {figures['stage_rows_in_year']} stage rows in the year"
        f" (facts derived in {figures['load_seconds']} s);"
        f" {figures['summary_rows_in_year']} monthly summary rows"
    )
    for name, timing in figures["reports"].items():
        rows = figures["reports_from_stage_rows"].get(name, {}).get("p50_ms", float("nan"))
        print(
            f"  {name:40} p50 {timing['p50_ms']:8.1f} ms  p95 {timing['p95_ms']:8.1f} ms"
            f"  (from the stage rows: p50 {rows:8.1f} ms)"
        )
    print(f"  per-stage figures plan: {figures['plan']['line']} ({figures['plan']['server_ms']} ms server)")
    alternate = figures["mid_month_interleaved_p50_ms"]
    print(
        f"  mid-month period, run alternately: p50 {alternate['after']} ms one statement, "
        f"{alternate['before']} ms a statement per figure set (before)"
    )
    for name, server_ms in figures["mid_month_server_ms"].items():
        print(f"  mid-month period, {name}: {server_ms} ms server")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--complaints", type=int, default=200, help="complaints (and raw workflows) to open")
    parser.add_argument("--concurrency", type=int, default=8, help="operations in flight, both sides")
    parser.add_argument("--rounds", type=int, default=4, help="alternating service/raw slices")
    parser.add_argument("--scale", type=int, default=20_000, help="synthetic rows for the list query")
    parser.add_argument("--repeats", type=int, default=50, help="timed runs of each list query")
    parser.add_argument("--report-repeats", type=int, default=10, help="timed runs of each report")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "latest.json")
    parser.add_argument("--skip-engine", action="store_true", help="only the list query (no Temporal)")
    parser.add_argument("--skip-http", action="store_true", help="no HTTP variant nor walk-through history")
    parser.add_argument(
        "--keep-data",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep the database in DIR (outside the repo) and reuse its rows and facts on the next run",
    )
    parser.add_argument(
        "--skip-before",
        action="store_true",
        help="time the reports only as they are (not the earlier forms, which take seconds each at 1M)",
    )
    parser.add_argument(
        "--skip-list", action="store_true", help="no list query nor reports (only the engine and HTTP parts)"
    )
    parser.add_argument(
        "--floor-parts",
        type=FloorParts.parse,
        default=ALL_PARTS,
        help="what the floor's action does: record, plus attribute and/or timer (default: all three)",
    )
    parser.add_argument("--py-spy", help="path of a py-spy binary, to sample the staff-action slices")
    parser.add_argument(
        "--profile", type=Path, help="with --py-spy: where the samples go (PATH.engine-actions.txt, ...)"
    )
    parser.add_argument("--temporal-port", type=int, default=17233)
    parser.add_argument("--ui-port", type=int, default=18233)
    args = parser.parse_args(argv)
    result = asyncio.run(bench(args))
    print_table(result)
    if "reports" in result:
        print_reports(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
