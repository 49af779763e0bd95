"""Worker memory per cached open complaint, and worker CPU per complaint opened: the figures behind the
README's sizing table.

    .venv/bin/python -m bench.worker_memory              # 1,500 complaints in 6 steps, then a capped run
    .venv/bin/python -m bench.worker_memory --complaints 3000 --cap 300

Starts its own embedded PostgreSQL and Temporal dev server (bench.run.stack), runs the real worker as its own
process (`python -m worker`, as in production) with WORKER_MAX_CACHED_WORKFLOWS above the number of
complaints, opens complaints in steps through the service's intake and, after each step has landed (every
complaint's first record written), reads the worker's resident memory (VmRSS) and CPU time from /proc. The
memory per cached complaint is the least-squares slope of RSS over complaints held. A second worker, capped
at `--cap` cached workflows, shows that memory stops growing at the cap (complaints beyond it are replayed
from history when they next have work). Figures depend on the machine; the slope is what sizing uses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client

from api.intake import open_case
from bench.engine import OFFICER, _intake
from bench.run import stack
from core.settings import REPO_ROOT
from domain.policy import Policy
from domain.policy_files import load_policies

_TICK = os.sysconf("SC_CLK_TCK")
POLICY_MIX = ("bexley", "westminster", "barking-dagenham", "complaint-handling-code")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def start_worker(
    dsn: str, address: str, task_queue: str, max_cached: int, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "TEMPORAL_ADDRESS": address,
        "TASK_QUEUE": task_queue,
        "WORKER_MAX_CACHED_WORKFLOWS": str(max_cached),
        "NOTIFICATION_CHANNEL": "none",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "worker"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


async def open_and_land(
    pool: asyncpg.Pool,
    client: Client,
    task_queue: str,
    policies: dict[str, Policy],
    count: int,
    first_index: int,
    concurrency: int = 8,
) -> None:
    """Open `count` complaints and wait until the worker has written each one's first record."""
    indexes = iter(range(first_index, first_index + count))
    references: list[str] = []

    async def lane() -> None:
        for index in indexes:
            policy_id = POLICY_MIX[index % len(POLICY_MIX)]
            references.append(
                await open_case(
                    pool=pool,
                    temporal=client,
                    task_queue=task_queue,
                    policy=policies[policy_id],
                    intake=_intake(index, policy_id),
                    actor=OFFICER,
                )
            )

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    async with asyncio.timeout(600):
        while await pool.fetchval(
            "SELECT count(*) FROM complaints WHERE reference = ANY($1::text[]) AND last_seq >= 0", references
        ) < len(references):
            await asyncio.sleep(0.2)


def slope(points: list[tuple[int, int]]) -> float:
    """Least-squares slope of y over x."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in points)
    variance = sum((x - mean_x) ** 2 for x, _ in points)
    return covariance / variance if variance else 0.0


async def measure_worker(
    pool: asyncpg.Pool,
    client: Client,
    dsn: str,
    policies: dict[str, Policy],
    *,
    label: str,
    max_cached: int,
    complaints: int,
    steps: int,
    first_index: int,
    folder: Path,
) -> dict[str, Any]:
    task_queue = f"memory-{label}"
    worker = start_worker(
        dsn, client.service_client.config.target_host, task_queue, max_cached, folder / "w.log"
    )
    try:
        # Warm-up: imports, the sandbox's module cache, the first workflow of each policy.
        await open_and_land(pool, client, task_queue, policies, len(POLICY_MIX) * 5, first_index)
        await asyncio.sleep(2)
        held = len(POLICY_MIX) * 5
        points = [(min(held, max_cached), rss_kib(worker.pid))]
        cpu_start = cpu_seconds(worker.pid)
        opened = 0
        per_step = complaints // steps
        samples = []
        for _ in range(steps):
            started = time.perf_counter()
            await open_and_land(pool, client, task_queue, policies, per_step, first_index + held + opened)
            opened += per_step
            await asyncio.sleep(2)  # let the worker settle (evictions, GC) before reading memory
            cached = min(held + opened, max_cached)
            rss = rss_kib(worker.pid)
            points.append((cached, rss))
            samples.append(
                {
                    "complaints": held + opened,
                    "cached": cached,
                    "rss_mib": round(rss / 1024, 1),
                    "step_seconds": round(time.perf_counter() - started, 1),
                }
            )
            print(f"  {label}: {held + opened:5} complaints, {cached:5} cached, RSS {rss / 1024:7.1f} MiB")
        cpu = cpu_seconds(worker.pid) - cpu_start
        growth = [point for point in points if point[0] < max_cached] or points
        return {
            "max_cached_workflows": max_cached,
            "complaints": held + opened,
            "samples": samples,
            "base_rss_mib": round(points[0][1] / 1024, 1),
            "kib_per_cached_complaint": round(slope(growth), 1) if len(growth) > 1 else None,
            "worker_cpu_ms_per_complaint_opened": round(1000 * cpu / opened, 1),
        }
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="complaints-memory-"))
    policies = load_policies(REPO_ROOT / "policies")
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "params": {"complaints": args.complaints, "steps": args.steps, "cap": args.cap},
    }
    try:
        async with stack(
            folder, with_temporal=True, port=args.temporal_port, ui_port=args.ui_port
        ) as servers:
            assert servers.client is not None
            common = {"folder": folder, "steps": args.steps}
            if "uncapped" in args.runs:
                result["uncapped"] = await measure_worker(
                    servers.pool, servers.client, servers.dsn, policies, label="uncapped",
                    max_cached=args.complaints * 2, complaints=args.complaints, first_index=0, **common,
                )  # fmt: skip
            if "capped" in args.runs:
                result["capped"] = await measure_worker(
                    servers.pool, servers.client, servers.dsn, policies, label="capped",
                    max_cached=args.cap, complaints=args.complaints, first_index=10 * args.complaints,
                    **common,
                )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_memory", description=__doc__)
    parser.add_argument("--complaints", type=int, default=1500, help="complaints opened per worker")
    parser.add_argument("--steps", type=int, default=6, help="memory readings per worker")
    parser.add_argument("--cap", type=int, default=300, help="WORKER_MAX_CACHED_WORKFLOWS of the capped run")
    parser.add_argument(
        "--runs",
        type=lambda text: set(text.split(",")),
        default={"uncapped", "capped"},
        help="uncapped, capped or both (default uncapped,capped)",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "worker-memory.json")
    parser.add_argument("--temporal-port", type=int, default=17233)
    parser.add_argument("--ui-port", type=int, default=18233)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    for label in ("uncapped", "capped"):
        if label in result:
            figures = result[label]
            print(
                f"\n{label} (cache {figures['max_cached_workflows']}):"
                f" RSS {figures['samples'][-1]['rss_mib']} MiB after {figures['complaints']} complaints"
                f" (at rest {figures['base_rss_mib']} MiB);"
                f" {figures['kib_per_cached_complaint']} KiB per cached complaint;"
                f" worker CPU per complaint opened {figures['worker_cpu_ms_per_complaint_opened']} ms"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
