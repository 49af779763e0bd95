"""Timing helpers: a fixed number of operations at a fixed concurrency, and latency percentiles."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")

# Server processes by name (temporal, postgres) whose CPU time, with their children's, each run also
# reports; filled in by bench.run.
SERVER_PIDS: dict[str, int] = {}
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def server_cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by each of SERVER_PIDS with its direct children (Linux /proc; 0 elsewhere)."""
    names = {pid: name for name, pid in SERVER_PIDS.items()}
    totals = dict.fromkeys(SERVER_PIDS, 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
        except OSError:
            continue
        fields = rest.rsplit(")", 1)[1].split()  # after "(comm)": state, ppid, ..., utime, stime
        name = names.get(int(pid)) or names.get(int(fields[1]))
        if name:
            totals[name] += (int(fields[11]) + int(fields[12])) / _TICK
    return totals


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Run:
    count: int
    seconds: float
    latencies_ms: list[float]
    # CPU time of this whole process (driver and in-process worker), and of the servers, over the run.
    cpu_seconds: float = 0.0
    server_cpu: dict[str, float] = field(default_factory=dict)

    def __add__(self, other: Run) -> Run:
        return Run(
            self.count + other.count,
            self.seconds + other.seconds,
            self.latencies_ms + other.latencies_ms,
            self.cpu_seconds + other.cpu_seconds,
            {name: self.server_cpu.get(name, 0.0) + other.server_cpu.get(name, 0.0)
             for name in self.server_cpu.keys() | other.server_cpu.keys()},
        )  # fmt: skip

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        return percentile(self.latencies_ms, fraction)

    def summary(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 2),
            "p50_ms": round(percentile(self.latencies_ms, 0.5), 2),
            "p95_ms": round(percentile(self.latencies_ms, 0.95), 2),
            "p99_ms": round(percentile(self.latencies_ms, 0.99), 2),
            "python_cpu_ms_per_op": round(1000 * self.cpu_seconds / max(1, self.count), 2),
            **{
                f"{name}_cpu_ms_per_op": round(1000 * seconds / max(1, self.count), 2)
                for name, seconds in sorted(self.server_cpu.items())
            },
        }


async def run_concurrently(
    items: Sequence[T], concurrency: int, operation: Callable[[T], Awaitable[object]]
) -> Run:
    """Run `operation` once per item with at most `concurrency` in flight; time the whole and each one."""
    pending = iter(items)
    latencies: list[float] = []

    async def lane() -> None:
        for item in pending:
            started = time.perf_counter()
            await operation(item)
            latencies.append((time.perf_counter() - started) * 1000)

    started, cpu, server_cpu = time.perf_counter(), time.process_time(), server_cpu_seconds()
    await asyncio.gather(*(lane() for _ in range(max(1, concurrency))))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server_cpu = {name: used - server_cpu[name] for name, used in server_cpu_seconds().items()}
    return Run(len(latencies), seconds, latencies, cpu, server_cpu)


async def alternating(
    rounds: int, concurrency: int, *sides: tuple[Sequence[Any], Callable[[Any], Awaitable[object]]]
) -> tuple[Run, ...]:
    """Each side's items split into `rounds` slices, the sides taking turns in each (in the order given, then
    reversed, ...), so a change in background load falls on every side; one run per side, in that order.
    The raw engine comes first, the service last."""
    runs = [Run(0, 0.0, []) for _ in sides]
    for part in range(rounds):
        order = range(len(sides)) if part % 2 == 0 else reversed(range(len(sides)))
        for index in order:
            items, operation = sides[index]
            runs[index] += await run_concurrently(items[part::rounds], concurrency, operation)
    return tuple(runs)


async def repeat(times: int, operation: Callable[[], Awaitable[object]]) -> list[float]:
    """Latencies in ms of `times` sequential calls."""
    latencies = []
    for _ in range(times):
        started = time.perf_counter()
        await operation()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


@contextmanager
def sampled(py_spy: str | None, out: Path | None) -> Iterator[None]:
    """Sample this process with py-spy while the block runs (raw folded stacks to `out`), when both are given:
    `--py-spy` and `--profile` of bench.run. Idle threads are left out; summarise with bench.profile."""
    if not py_spy or out is None:
        yield
        return
    command = [py_spy, "record", "--pid", str(os.getpid()), "--rate", "50", "--format", "raw"]
    command.append("--nonblocking")  # never pauses the process it samples
    sampler = subprocess.Popen(
        [*command, "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield
    finally:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)
