"""Intake and staff-action rates through the service, against the raw engine on the same server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client

from api.intake import open_case
from bench.floor import ALL_PARTS, Floor, FloorParts
from bench.measure import Run, alternating, run_concurrently, sampled
from bench.noop import TASK_QUEUE, Landed, Noop
from core.temporal import workflow_id
from domain import commands as cmd
from domain.models import Actor, Channel, Complainant, Intake, Receipt, Role
from domain.policy import Policy

OFFICER = Actor(id="olivia.officer", role=Role.COMPLAINTS_OFFICER, name="Olivia Officer")
# Service areas every shipped policy has (the defaults): staff-entered areas are checked against the policy.
AREAS = ("housing-repairs", "waste", "council-tax", "parking", "planning", "social-care")


@dataclass
class EngineResult:
    """The service's runs beside the raw ones, intake and actions (bench/http.py's result adds its p99)."""

    service_intake: Run
    raw_intake: Run
    service_actions: Run
    raw_actions: Run
    # The least a staff action can do under the ground rules (bench/floor.py); the engine's measure only.
    floor_actions: Run | None = None

    def pair(self, service: Run, raw: Run) -> dict[str, Any]:
        ratio = service.per_second / raw.per_second if raw.per_second else 0.0
        return {"service": service.summary(), "raw": raw.summary(), "ratio": round(ratio, 3)}

    def summary(self) -> dict[str, Any]:
        figures = {
            "intake": self.pair(self.service_intake, self.raw_intake),
            "actions": self.pair(self.service_actions, self.raw_actions),
        }
        if self.floor_actions is not None:  # against the same raw no-op update
            figures["floor"] = self.pair(self.floor_actions, self.raw_actions)
        return figures


def _intake(index: int, policy_id: str) -> Intake:
    # Received an hour ago: no acknowledgement or response timer can fire while the bench runs.
    return Intake(
        policy_id=policy_id,
        received_at=datetime.now(UTC) - timedelta(hours=1),
        channel=Channel.EMAIL,
        complainant=Complainant(name=f"Bench Resident {index}", email=f"resident{index}@example.org"),
        service_area=AREAS[index % len(AREAS)],
        summary="Damp in the bedroom reported three times and not fixed.",
        desired_outcome="Fix the damp.",
    )


class ServiceSide:
    def __init__(self, pool: asyncpg.Pool, client: Client, task_queue: str, policies: dict[str, Policy]):
        self.pool, self.client, self.task_queue = pool, client, task_queue
        self.policies = [policies[name] for name in sorted(policies)]
        self.references: list[str] = []

    async def open(self, index: int) -> None:
        policy = self.policies[index % len(self.policies)]
        reference = await open_case(
            pool=self.pool,
            temporal=self.client,
            task_queue=self.task_queue,
            policy=policy,
            intake=_intake(index, policy.id),
            actor=OFFICER,
        )
        self.references.append(reference)

    async def acknowledge(self, reference: str) -> None:
        handle = self.client.get_workflow_handle(workflow_id(reference))
        await handle.execute_update("acknowledge", cmd.Acknowledge(actor=OFFICER), result_type=Receipt)


class RawSide:
    def __init__(self, client: Client, landed: Landed):
        self.client, self.landed = client, landed
        self.run_id = uuid.uuid4().hex[:8]
        self.ids: list[str] = []
        self.finished: list[str] = []

    async def open(self, index: int) -> None:
        wid = f"bench-noop-{self.run_id}-{index}"
        landed = self.landed.expect(wid)
        await self.client.start_workflow(Noop.run, id=wid, task_queue=TASK_QUEUE)
        await landed.wait()
        self.ids.append(wid)

    async def poke(self, wid: str) -> None:
        await self.client.get_workflow_handle(wid).execute_update(Noop.poke)

    async def finish(self) -> None:
        everyone = self.finished + self.ids
        await asyncio.gather(*(self.client.get_workflow_handle(wid).signal(Noop.finish) for wid in everyone))


class FloorSide:
    """Workflows of `bench.floor` on the raw worker's queue, started untimed: only their action is timed."""

    def __init__(self, client: Client, parts: FloorParts):
        self.client, self.parts = client, parts
        self.run_id = uuid.uuid4().hex[:8]
        self.ids: list[str] = []

    async def open(self, index: int) -> None:
        wid = f"bench-floor-{self.run_id}-{index}"
        await self.client.start_workflow(Floor.run, id=wid, task_queue=TASK_QUEUE)
        self.ids.append(wid)

    async def act(self, wid: str) -> None:
        await self.client.get_workflow_handle(wid).execute_update(Floor.act, self.parts)

    async def finish(self) -> None:
        await asyncio.gather(*(self.client.get_workflow_handle(wid).signal(Floor.finish) for wid in self.ids))


async def measure_engine(
    *,
    pool: asyncpg.Pool,
    client: Client,
    task_queue: str,
    policies: dict[str, Policy],
    landed: Landed,
    complaints: int,
    concurrency: int,
    rounds: int = 4,
    warmup: int = 10,
    py_spy: str | None = None,
    profile: Path | None = None,
    floor_parts: FloorParts = ALL_PARTS,
) -> EngineResult:
    """Warm both sides up, then time N intakes and N first actions on each side.

    Service and raw alternate in `rounds` slices (raw first, then service first, ...), so a change in
    background load on the machine falls on both sides alike.
    """
    service, raw = ServiceSide(pool, client, task_queue, policies), RawSide(client, landed)
    floor = FloorSide(client, floor_parts)
    warm: Sequence[int] = range(-warmup, 0)
    await run_concurrently(range(complaints + warmup), concurrency, floor.open)
    await run_concurrently(floor.ids[:warmup], concurrency, floor.act)
    await run_concurrently(warm, concurrency, raw.open)
    await run_concurrently(warm, concurrency, service.open)
    await run_concurrently(list(raw.ids), concurrency, raw.poke)
    await run_concurrently(list(service.references), concurrency, service.acknowledge)
    raw.finished, raw.ids = raw.ids, []
    service.references.clear()

    opened = range(complaints)
    raw_intake, service_intake = await alternating(
        rounds, concurrency, (opened, raw.open), (opened, service.open)
    )
    with sampled(py_spy, profile):
        raw_actions, floor_actions, service_actions = await alternating(
            rounds,
            concurrency,
            (raw.ids, raw.poke),
            (floor.ids[warmup:], floor.act),
            (service.references, service.acknowledge),
        )
    result = EngineResult(
        service_intake=service_intake,
        raw_intake=raw_intake,
        service_actions=service_actions,
        raw_actions=raw_actions,
        floor_actions=floor_actions,
    )
    acknowledged = await pool.fetchval(
        "SELECT count(*) FROM complaints WHERE reference = ANY($1) AND status = 'acknowledged'",
        service.references,
    )
    if acknowledged != complaints:
        raise RuntimeError(f"only {acknowledged} of {complaints} complaints were recorded as acknowledged")
    await raw.finish()
    await floor.finish()
    return result
