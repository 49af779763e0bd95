"""`complaints replay-check`, the gate before a deploy, against complaints run on a real Temporal dev server:
it passes with the code that made them and fails, exit 1, on a change that is not replay-safe."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

import worker
from cli.main import main
from core.replay_check import default_query, replay_check
from core.settings import Settings, get_settings
from core.temporal import connect
from domain.models import ComplaintState, OpenComplaint
from domain.policy import Policy
from tests.factories import intake, open_complaint
from workflows.complaint import ComplaintWorkflow
from workflows.complaint.version import CODE_VERSION

COMPLAINT_TYPE = workflow._Definition.must_from_class(ComplaintWorkflow).name


# Not sandboxed: the sandbox would re-import this test module and everything it imports; the check for
# non-determinism is the same outside it.
@workflow.defn(name=COMPLAINT_TYPE, sandboxed=False)
class ComplaintWithANewFirstStep(ComplaintWorkflow):
    """A release that adds a step before the first one without `workflow.patched`: not replay-safe."""

    @workflow.run
    async def run(self, command: OpenComplaint) -> ComplaintState:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(command)


async def _until_it_has_worked(handle: WorkflowHandle[ComplaintWorkflow, ComplaintState]) -> None:
    """Until the worker has run the complaint's first activities (its history has decisions to replay)."""
    async with asyncio.timeout(60):
        while True:
            history = await handle.fetch_history()
            if any(
                event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED for event in history.events
            ):
                return
            await asyncio.sleep(0.2)


async def _until_listed(client: Client, query: str, count: int) -> None:
    """Visibility is eventually consistent: wait until the new complaints are listed."""
    async with asyncio.timeout(60):
        while (await client.count_workflows(query)).count < count:
            await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def complaints_on_a_dev_server(
    temporal_dev_server: str, pool: asyncpg.Pool, policies: dict[str, Policy]
) -> AsyncIterator[tuple[Client, str]]:
    """Three complaints run by the real worker on the dev server: two still open, one closed (terminated)."""
    client = await connect(
        settings=Settings(_env_file=None, temporal_address=temporal_dev_server), environ={}
    )
    task_queue = f"replay-{uuid.uuid4().hex[:8]}"
    env = WorkflowEnvironment.from_client(client)
    now = datetime.now(UTC)
    async with worker.build_worker(client, task_queue, pool, policies):
        handles = [
            await open_complaint(env, task_queue, intake(policy_id, now))
            for policy_id in ("bexley", "westminster", "complaint-handling-code")
        ]
        for handle in handles:
            await _until_it_has_worked(handle)
        await handles[-1].terminate(reason="closed before the release")
    await _until_listed(client, f'TaskQueue = "{task_queue}" AND ExecutionStatus = "Terminated"', 1)
    await _until_listed(client, f'TaskQueue = "{task_queue}"', 3)
    yield client, task_queue


def _gate(*args: str) -> list[str]:
    return ["replay-check", *args]


async def test_replay_check_passes_on_the_complaints_the_current_code_made(
    complaints_on_a_dev_server: tuple[Client, str],
    temporal_dev_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, task_queue = complaints_on_a_dev_server
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_dev_server)
    get_settings.cache_clear()
    query = f'{default_query(worker.WORKFLOWS)} AND TaskQueue = "{task_queue}"'
    # The command itself, as a deploy pipeline runs it (in a thread: it runs its own event loop).
    code = await asyncio.to_thread(main, _gate("--query", query, "--sample", "50"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "replayed 3 histories: every one replays with this code" in out

    # The sample size caps what is fetched.
    assert await asyncio.to_thread(main, _gate("--query", query, "--sample", "2")) == 0
    assert "replayed 2 histories" in capsys.readouterr().out
    get_settings.cache_clear()


async def test_default_query_takes_running_and_recently_closed_complaints(
    complaints_on_a_dev_server: tuple[Client, str],
) -> None:
    client, task_queue = complaints_on_a_dev_server
    mine = f' AND TaskQueue = "{task_queue}"'
    report = await replay_check(client, worker.WORKFLOWS, query=default_query(worker.WORKFLOWS) + mine)
    assert (report.replayed, report.failures) == (3, [])
    # Each run recorded the code version it started on, and the check counts the runs per version (the
    # terminated one may have been stopped before its first upsert: counted as unversioned).
    assert sum(seen.runs for seen in report.versions.values()) == 3
    running = await replay_check(
        client, worker.WORKFLOWS, query=f'TaskQueue = "{task_queue}" AND ExecutionStatus = "Running"'
    )
    assert list(running.versions) == [CODE_VERSION]
    assert (running.versions[CODE_VERSION].runs, running.versions[CODE_VERSION].replayed) == (2, 2)
    # With room for one per version, it takes the oldest run of each.
    one = await replay_check(client, worker.WORKFLOWS, query=f'TaskQueue = "{task_queue}"', sample=1)
    assert one.replayed == 1
    # A month on, the closed one is no longer "recent": only the two running ones are replayed.
    later = datetime.now(UTC) + timedelta(days=30)
    query = default_query(worker.WORKFLOWS, now=later) + mine
    report = await replay_check(client, worker.WORKFLOWS, query=query)
    assert (report.replayed, report.failures) == (2, [])


async def test_replay_check_fails_on_a_change_that_is_not_replay_safe(
    complaints_on_a_dev_server: tuple[Client, str],
    temporal_dev_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, task_queue = complaints_on_a_dev_server
    report = await replay_check(
        client, [ComplaintWithANewFirstStep], query=f'TaskQueue = "{task_queue}"', sample=10
    )
    assert report.replayed == 3
    assert len(report.failures) == 3
    assert all("nondetermin" in failure.error.lower() for failure in report.failures), report.failures

    # The command exits 1 and names every complaint that would break.
    monkeypatch.setattr(worker, "WORKFLOWS", [ComplaintWithANewFirstStep])
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_dev_server)
    get_settings.cache_clear()
    query = f'{default_query(worker.WORKFLOWS)} AND TaskQueue = "{task_queue}"'
    code = await asyncio.to_thread(main, _gate("--query", query))
    out = capsys.readouterr().out
    assert code == 1, out
    assert out.count("NOT REPLAYABLE complaint-") == 3
    assert "3 of 3 histories do not replay with this code: do not deploy it" in out
    get_settings.cache_clear()


def test_replay_check_without_a_temporal_address_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("TEMPORAL_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    try:
        assert main(_gate()) == 2
    finally:
        get_settings.cache_clear()
    assert "no Temporal address" in capsys.readouterr().err
