"""The gate before every deploy: replay the histories of complaints already running (and recently closed) in a
namespace against the workflow code about to be released.

A change on the workflow's path that is not behind `workflow.patched` makes a running complaint's history
diverge from what the new code does; the SDK's `Replayer` reports it as a non-determinism error, here, before
the new workers meet those complaints. tests/test_replay.py does the same for the committed histories; this
check does it for the ones in production.

The sample covers every code version still running (search attribute `CodeVersion`, set by each run): the
oldest runs of each version first, then its newest, because the oldest are the ones that took the paths of
older code (and keep a `workflow.patched` branch alive). The report counts the runs per version: once no
run of a version older than a patch is listed, the patch can be deprecated (docs/upgrading.md).
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio import workflow
from temporalio.client import Client, WorkflowExecution, WorkflowHistory
from temporalio.worker import Replayer

from core import search_attributes as sa

DEFAULT_SAMPLE = 1000
DEFAULT_CLOSED_WITHIN = timedelta(days=7)


@dataclass
class ReplayFailure:
    workflow_id: str
    run_id: str
    error: str


# A run ranked by its start (negated for the oldest), with its key for equal starts.
Ranked = tuple[float, str, WorkflowExecution]
UNVERSIONED = "(none)"  # runs started before runs recorded their code version


@dataclass
class VersionSample:
    """The runs of one code version that the query matched, and how many of them were replayed."""

    runs: int = 0
    oldest_start: datetime | None = None
    replayed: int = 0


@dataclass
class ReplayReport:
    replayed: int = 0
    failures: list[ReplayFailure] = field(default_factory=list)
    versions: dict[str, VersionSample] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures


def workflow_type_names(workflows: Sequence[type]) -> list[str]:
    """The registered names (`@workflow.defn(name=...)`) of the workflow classes."""
    names = []
    for cls in workflows:
        name = workflow._Definition.must_from_class(cls).name
        if name is None:  # a dynamic workflow has no type of its own to list
            continue
        names.append(name)
    return names


def default_query(
    workflows: Sequence[type],
    *,
    now: datetime | None = None,
    closed_within: timedelta = DEFAULT_CLOSED_WITHIN,
) -> str:
    """The service's workflows that are running, or that closed within `closed_within` (a closed history still
    shows code paths the running ones will take)."""
    since = (now or datetime.now(UTC)) - closed_within
    types = ", ".join(f'"{name}"' for name in workflow_type_names(workflows))
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'WorkflowType IN ({types}) AND (ExecutionStatus = "Running" OR CloseTime > "{stamp}")'


async def replay_check(
    client: Client, workflows: Sequence[type], *, query: str, sample: int = DEFAULT_SAMPLE
) -> ReplayReport:
    """Replay up to `sample` histories matching the visibility `query` against `workflows`, with the
    client's data converter (the service's, codec included): for every code version, its oldest runs and
    its newest, an equal share each."""
    report = ReplayReport()
    chosen = await _sample(client, query, sample, report)
    replayer = Replayer(workflows=list(workflows), data_converter=client.data_converter)
    versions = {(run.id, run.run_id): version for version, run in chosen}

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for _, run in chosen:
            yield await client.get_workflow_handle(run.id, run_id=run.run_id).fetch_history()

    async with replayer.workflow_replay_iterator(histories()) as results:
        async for result in results:
            report.replayed += 1
            history = result.history
            report.versions[versions[(history.workflow_id, history.run_id)]].replayed += 1
            if result.replay_failure is not None:
                report.failures.append(
                    ReplayFailure(
                        workflow_id=history.workflow_id,
                        run_id=history.run_id,
                        error=str(result.replay_failure),
                    )
                )
    return report


async def _sample(
    client: Client, query: str, sample: int, report: ReplayReport
) -> list[tuple[str, WorkflowExecution]]:
    """List the matching runs (their metadata only) and pick, per code version, the oldest and the newest."""
    oldest: dict[str, list[Ranked]] = {}
    newest: dict[str, list[Ranked]] = {}
    async for run in client.list_workflows(query):
        version = run.typed_search_attributes.get(sa.CODE_VERSION) or UNVERSIONED
        seen = report.versions.setdefault(version, VersionSample())
        seen.runs += 1
        if seen.oldest_start is None or run.start_time < seen.oldest_start:
            seen.oldest_start = run.start_time
        started = run.start_time.timestamp()
        key = f"{run.id}/{run.run_id}"
        # Bounded heaps: the `sample` oldest (max-heap on start) and newest (min-heap) of each version.
        _keep(oldest.setdefault(version, []), (-started, key, run), sample)
        _keep(newest.setdefault(version, []), (started, key, run), sample)
    if not report.versions:
        return []
    share = max(1, sample // len(report.versions))
    chosen: list[tuple[str, WorkflowExecution]] = []
    for version in sorted(report.versions):
        first = [run for _, _, run in sorted(oldest[version], key=lambda item: -item[0])]
        last = [run for _, _, run in sorted(newest[version], key=lambda item: -item[0])]
        picked: dict[tuple[str, str], WorkflowExecution] = {}
        for run in _alternate(first, last):
            if len(picked) >= share:
                break
            picked.setdefault((run.id, run.run_id), run)
        chosen += [(version, run) for run in picked.values()]
    return chosen[:sample]


def _keep(
    heap: list[tuple[float, str, WorkflowExecution]], item: tuple[float, str, WorkflowExecution], size: int
) -> None:
    if len(heap) < size:
        heapq.heappush(heap, item)
    elif item[:2] > heap[0][:2]:
        heapq.heapreplace(heap, item)


def _alternate(first: list[WorkflowExecution], last: list[WorkflowExecution]) -> list[WorkflowExecution]:
    """The oldest, the newest, the second oldest, the second newest..."""
    merged: list[WorkflowExecution] = []
    for index in range(max(len(first), len(last))):
        merged += first[index : index + 1] + last[index : index + 1]
    return merged
