"""`make chaos`: fault runs against real servers on loopback, with the counts printed.

Three runs on one stack, each while concurrent clients create and acknowledge complaints (retrying as real
clients do, with Idempotency-Keys): the worker killed with kill -9 several times; Temporal killed with kill
-9 and restarted on the same database file; PostgreSQL stopped and restarted. After each: every complaint a
client was told exists has its row and its workflow, every acknowledged one is acknowledged, no event,
outbox row, e-mail or audit row is missing or duplicated, no workflow failed, a timer still fires, and no
case row exists that no client was told of. Exit status 1 if anything is wrong.

    python -m chaos.run [--complaints 300] [--concurrency 12] [--worker-kills 5]
                        [--down-seconds 10] [--phases worker,temporal,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chaos.load import Tally, call, complaint_body, run_clients
from chaos.stack import Stack, start_stack
from chaos.verify import Findings, Shape, failed_workflow_count, settle, shape_of, verify
from store.db import create_pool

log = logging.getLogger("chaos")

Fault = Callable[[Stack, Callable[[], float]], Awaitable[str]]


@dataclass
class Report:
    phase: str
    fault: str
    tally: Tally
    findings: Findings

    def line(self) -> str:
        classes = self.tally.by_class()
        f = self.findings
        t = self.tally
        return (
            f"{self.phase:<9} requests {t.requests:>5}  2xx {classes['2xx']:>4}  4xx {classes['4xx']:>4}"
            f"  5xx {classes['5xx']:>3} (503 {t.statuses[503]})  transport errors {t.transport_errors:>3}"
            f"  | told exists {len(t.told_exists):>4}  acknowledged {len(t.told_acknowledged):>4}"
            f"  | lost {len(f.lost)}  not acknowledged {len(f.not_acknowledged)}  missing {len(f.missing)}"
            f"  duplicated {len(f.duplicated)}  orphaned {len(f.orphaned)}  failed workflows"
            f" {len(f.failed_workflows)}  stuck letters {len(f.stuck_letters)}  timers fired {f.timers_fired}"
            f"  | e-mails re-sent after a kill (flagged) {len(f.duplicated_emails_flagged)}"
        )

    def details(self) -> list[str]:
        out: list[str] = [f"  fault: {self.fault}"]
        f = self.findings
        for name, items in (
            ("lost", f.lost),
            ("not acknowledged", f.not_acknowledged),
            ("missing", f.missing),
            ("duplicated", f.duplicated),
            ("orphaned", f.orphaned),
            ("failed workflows", f.failed_workflows),
            ("stuck letters", f.stuck_letters),
            ("refused", self.tally.refused),
            ("gave up", self.tally.gave_up),
            ("re-sent e-mails (flagged to staff)", f.duplicated_emails_flagged),
        ):
            for item in items[:8]:
                out.append(f"  {name}: {item}")
            if len(items) > 8:
                out.append(f"  {name}: ... {len(items) - 8} more")
        return out


# ------------------------------------------------------------------------------------------------ faults


def kill_worker(times: int) -> Fault:
    async def fault(stack: Stack, progress: Callable[[], float]) -> str:
        for kill in range(1, times + 1):
            await _until(progress, kill / (times + 1))
            stack.kill_worker()
            await asyncio.sleep(1.0)
            stack.start_worker()
        return f"worker killed with kill -9 {times} times under load"

    return fault


def kill_temporal(down_seconds: float) -> Fault:
    async def fault(stack: Stack, progress: Callable[[], float]) -> str:
        await _until(progress, 1 / 3)
        stack.kill_temporal()
        await asyncio.sleep(down_seconds)
        await stack.start_temporal()
        _revive_worker(stack)
        return f"Temporal killed with kill -9, restarted on its database file after {down_seconds:.0f}s"

    return fault


def stop_postgres(down_seconds: float) -> Fault:
    async def fault(stack: Stack, progress: Callable[[], float]) -> str:
        await _until(progress, 1 / 3)
        await stack.stop_postgres()
        await asyncio.sleep(down_seconds)
        await stack.restart_postgres()
        _revive_worker(stack)
        return f"PostgreSQL stopped, restarted after {down_seconds:.0f}s"

    return fault


def _revive_worker(stack: Stack) -> None:
    """A worker that exited on its own during an outage is started again (as a supervisor would)."""
    if stack.worker is None or stack.worker.poll() is not None:
        log.warning("the worker had exited during the outage; starting it again")
        stack.start_worker()


async def _until(progress: Callable[[], float], fraction: float) -> None:
    while progress() < fraction:
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------------------------------------ runs


async def _references(stack: Stack) -> set[str]:
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        return {row["reference"] for row in await pool.fetch("SELECT reference FROM complaints")}
    finally:
        await pool.close()


async def baseline(stack: Stack, known: set[str]) -> Shape:
    """One complaint created and acknowledged while nothing fails: what every complaint should leave."""
    tally = Tally()
    assert stack.api is not None
    await run_clients(stack.api, stack.settings, run="baseline", complaints=1, concurrency=1, tally=tally)
    [reference] = tally.told_exists.values()
    known.add(reference)
    await settle(stack.database_url, [reference])
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        return await shape_of(pool, reference)
    finally:
        await pool.close()


async def timers_fire(stack: Stack, known: set[str]) -> bool:
    """A complaint whose acknowledgement was due days ago: its overdue timer fires at once."""
    assert stack.api is not None
    tally = Tally()
    from api.auth import issue_dev_token
    from store.staff import DEMO_STAFF

    officer = next(user for user in DEMO_STAFF if user.id == "olivia.officer")
    body = complaint_body("timer", int(time.time()), datetime.now(UTC) - timedelta(days=20))
    created = await call(
        stack.api,
        tally,
        "POST",
        "/api/complaints",
        json=body,
        headers={
            "Authorization": f"Bearer {issue_dev_token(officer, stack.settings)}",
            "Idempotency-Key": f"timer-{time.time()}",
        },
    )
    if created is None or created.status_code != 201:
        return False
    reference = str(created.json()["reference"])
    known.add(reference)
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        for _ in range(120):
            if await pool.fetchval("SELECT overdue FROM complaints WHERE reference = $1", reference):
                return True
            await asyncio.sleep(0.5)
        return False
    finally:
        await pool.close()


async def run_phase(
    stack: Stack, name: str, fault: Fault, *, complaints: int, concurrency: int, known: set[str], shape: Shape
) -> Report:
    before = await _references(stack)
    tally = Tally()
    done = 0

    def on_done(count: int) -> None:
        nonlocal done
        done = count

    def progress() -> float:
        return done / complaints

    assert stack.api is not None
    started = time.monotonic()
    load = asyncio.create_task(
        run_clients(
            stack.api,
            stack.settings,
            run=f"{name}-{int(started)}",
            complaints=complaints,
            concurrency=concurrency,
            tally=tally,
            on_done=on_done,
        )
    )
    description = await fault(stack, progress)
    await load
    known.update(tally.told_exists.values())
    timers = await timers_fire(stack, known)
    assert stack.checker is not None
    after = await _references(stack)
    findings = await verify(
        database_url=stack.database_url,
        temporal=stack.checker,
        mail_folder=stack.catcher.folder,
        told_exists=list(tally.told_exists.values()),
        told_acknowledged=tally.told_acknowledged,
        known=known,
        baseline=shape,
        run_references=sorted(after - before),
    )
    findings.timers_fired = timers
    if await failed_workflow_count(stack.checker):
        findings.failed_workflows.append("Temporal counts failed or terminated workflows")
    print(f"  ({name}: {time.monotonic() - started:.0f}s)", flush=True)
    return Report(name, description, tally, findings)


PHASES: dict[str, Callable[[argparse.Namespace], Fault]] = {
    "worker": lambda args: kill_worker(args.worker_kills),
    "temporal": lambda args: kill_temporal(args.down_seconds),
    "postgres": lambda args: stop_postgres(args.down_seconds),
}


async def main_async(args: argparse.Namespace) -> list[Report]:
    stack = await start_stack()
    reports: list[Report] = []
    try:
        known: set[str] = set()
        shape = await baseline(stack, known)
        print(
            f"stack up in {stack.folder}; baseline complaint: events {dict(shape.events)},"
            f" letters {dict(shape.templates)}, audit {dict(shape.audit)}",
            flush=True,
        )
        for phase in args.phases.split(","):
            complaints = args.complaints if phase == "worker" else args.outage_complaints
            print(f"{phase}: {complaints} complaints, {args.concurrency} clients ...", flush=True)
            report = await run_phase(
                stack,
                phase,
                PHASES[phase](args),
                complaints=complaints,
                concurrency=args.concurrency,
                known=known,
                shape=shape,
            )
            reports.append(report)
            print(report.line(), flush=True)
            for line in report.details():
                print(line, flush=True)
    finally:
        await stack.close()
    return reports


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos.run", description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=300, help="complaints in the worker run")
    parser.add_argument(
        "--outage-complaints",
        type=int,
        default=100,
        help="complaints in the Temporal and PostgreSQL runs (each outage lasts --down-seconds)",
    )
    parser.add_argument("--concurrency", type=int, default=12)
    parser.add_argument("--worker-kills", type=int, default=5)
    parser.add_argument("--down-seconds", type=float, default=10.0)
    parser.add_argument("--phases", default="worker,temporal,postgres")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("api.errors").setLevel(logging.ERROR)  # the expected 503s; a 500 is still logged
    started = time.monotonic()
    reports = asyncio.run(main_async(parse(argv)))
    print(f"\nchaos: {time.monotonic() - started:.0f}s in all")
    for report in reports:
        print(report.line())
    sys.exit(1 if any(report.findings.violations() for report in reports) else 0)


if __name__ == "__main__":
    main()
