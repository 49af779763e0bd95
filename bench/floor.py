"""The floor of a staff action: the least work the ground rules ask of one, on the raw engine, nothing more.

A staff action of this service must (the ground rules of the design): be an Update of the complaint's
workflow; record its event in PostgreSQL from an activity (the workflow never does I/O); show the new status
in the Temporal Web UI (a search attribute); and move the deadline timer the action changed. `BenchFloor` does
exactly that and nothing else: one local activity inserting one row, one search-attribute upsert, one timer
cancelled and started again. No rule, no state, no letter, no payload codec, no stage facts, no read model.

Its rate against the raw no-op update in the same run is the best ratio any implementation of the staff
action could reach on this machine: if it is below a target, no change to the service's code meets that
target (issue 23, bench/README.md). Like `bench.noop`, the module imports nothing of the service, so the
sandbox loads as little as possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey

if TYPE_CHECKING:
    # Never imported at run time: the sandbox imports this module afresh for each workflow run, and a C
    # extension such as asyncpg's imported again there crashed the process (a segmentation fault in a later
    # query of the real asyncpg).
    import asyncpg

STATUS = SearchAttributeKey.for_keyword("ComplaintStatus")  # registered by the bench like the service's

# The bench's own table (created by `FloorRecorder.prepare`, never by a migration: it is not the service's).
_TABLE = """
CREATE TABLE IF NOT EXISTS bench_floor_events (
    workflow_id text NOT NULL,
    seq integer NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, seq)
)
"""


@dataclass(frozen=True)
class FloorParts:
    """What an action of the floor does besides recording its event (`--floor-parts`): both by default. The
    record alone is the least any staff action can be: its event must reach PostgreSQL from an activity."""

    attribute: bool = True
    timer: bool = True

    @classmethod
    def parse(cls, text: str) -> FloorParts:
        named = {part.strip() for part in text.split(",") if part.strip()}
        unknown = named - {"record", "attribute", "timer"}
        if unknown or "record" not in named:
            raise ValueError(
                f"--floor-parts: 'record' and any of 'attribute', 'timer'; not {sorted(unknown)}"
            )
        return cls(attribute="attribute" in named, timer="timer" in named)

    @property
    def label(self) -> str:
        return "+".join(["record", *(["attr"] if self.attribute else []), *(["timer"] if self.timer else [])])


ALL_PARTS = FloorParts()


class FloorRecorder:
    """The floor's record: one idempotent INSERT, as the service's record activity is idempotent."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def prepare(self) -> None:
        await self.pool.execute(_TABLE)

    @activity.defn(name="bench_floor_record")
    async def record(self, seq: int) -> None:
        await self.pool.execute(
            "INSERT INTO bench_floor_events (workflow_id, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            activity.info().workflow_id,
            seq,
        )


@workflow.defn(name="BenchFloor")
class Floor:
    def __init__(self) -> None:
        self._seq = 0
        self._rearm = False
        self._done = False

    @workflow.run
    async def run(self) -> int:
        while not self._done:
            # A deadline weeks away, moved by every action (as an acknowledgement moves the complaint's).
            try:
                await workflow.wait_condition(
                    lambda: self._rearm or self._done, timeout=timedelta(days=20 + self._seq)
                )
            except TimeoutError:
                pass
            self._rearm = False
        return self._seq

    @workflow.update
    async def act(self, parts: FloorParts) -> int:
        seq = self._seq + 1
        await workflow.execute_local_activity(
            "bench_floor_record", seq, start_to_close_timeout=timedelta(seconds=10)
        )
        self._seq = seq
        if parts.attribute:
            workflow.upsert_search_attributes([STATUS.value_set(f"step-{seq}")])
        self._rearm = parts.timer
        return seq

    @workflow.signal
    def finish(self) -> None:
        self._done = True
