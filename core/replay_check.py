"""The gate before every deploy: replay the histories of complaints already running (and recently closed) in a
namespace against the workflow code about to be released.

A change on the workflow's path that is not behind `workflow.patched` makes a running complaint's history
diverge from what the new code does; the SDK's `Replayer` reports it as a non-determinism error, here, before
the new workers meet those complaints. tests/test_replay.py does the same for the committed histories; this
check does it for the ones in production.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Replayer

DEFAULT_SAMPLE = 1000
DEFAULT_CLOSED_WITHIN = timedelta(days=7)


@dataclass
class ReplayFailure:
    workflow_id: str
    run_id: str
    error: str


@dataclass
class ReplayReport:
    replayed: int = 0
    failures: list[ReplayFailure] = field(default_factory=list)

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
    """Fetch up to `sample` histories matching the visibility `query` (most recently started first) and replay
    each against `workflows`, with the client's data converter (the service's, codec included)."""
    replayer = Replayer(workflows=list(workflows), data_converter=client.data_converter)
    histories = client.list_workflows(query, limit=sample).map_histories()
    report = ReplayReport()
    async with replayer.workflow_replay_iterator(histories) as results:
        async for result in results:
            report.replayed += 1
            if result.replay_failure is not None:
                report.failures.append(
                    ReplayFailure(
                        workflow_id=result.history.workflow_id,
                        run_id=result.history.run_id,
                        error=str(result.replay_failure),
                    )
                )
    return report
