"""A complaint's first run: started by the intake with a short workflow task timeout, kept small, continued
as new with the long one (workflows/complaint/limits.py).

A first task lost on the way (a worker that took it and died; on a loaded server, a task recorded as started
that no worker ever ran): Temporal hands it out again only after the run's task timeout, so the caller of
the intake must still get its complaint within its wait (`api.intake.OPEN_TIMEOUT`), once, and a retry with
the same key gives the same one.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import PollWorkflowTaskQueueRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.intake import open_case
from core.settings import Settings
from core.temporal import RequestDeadline, connect, workflow_id
from domain import commands as cmd
from domain.models import Status
from domain.policy import Policy
from tests.factories import (
    INVESTIGATOR,
    OFFICER,
    act,
    intake,
    running_worker,
    start_in_quiet_week,
    state_of,
)
from worker import build_worker
from workflows.complaint.limits import OPENING_RUN_BYTES_LIMIT, OPENING_TASK_TIMEOUT, TASK_TIMEOUT

LONGEST_NOTE = 10_000


async def _take_and_drop_a_task(client: Client, task_queue: str) -> str:
    """Poll one workflow task as a worker would, and never answer it (a worker that died holding it); the
    workflow id of the task taken."""
    while True:
        task = await client.workflow_service.poll_workflow_task_queue(
            PollWorkflowTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                identity="a worker that dies",
            )
        )
        if task.task_token:
            return str(task.workflow_execution.workflow_id)


async def test_a_lost_first_task_still_opens_the_complaint_while_the_caller_waits(
    temporal_dev_server: str, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    # The dev server as production runs it: a lost task comes back only after its real timeout (the
    # time-skipping test server fails Update-with-Start on a timed-out task). The API's client, with its
    # deadline on every call (TEMPORAL_REQUEST_TIMEOUT).
    settings = Settings(_env_file=None, temporal_address=temporal_dev_server)
    client = await connect(
        settings=settings,
        environ={},
        interceptors=[RequestDeadline(settings.temporal_request_timeout)],
    )

    def opening() -> asyncio.Task[str]:
        return asyncio.create_task(
            open_case(
                pool=pool,
                temporal=client,
                task_queue=task_queue,
                policy=policies["bexley"],
                intake=intake("bexley", datetime.now(UTC) - timedelta(hours=1)),
                actor=OFFICER,
                idempotency_key="resident-form-1",
            )
        )

    # The intake starts the workflow; its first task goes to a worker that never answers.
    first = opening()
    lost = await _take_and_drop_a_task(client, task_queue)
    async with build_worker(client, task_queue, pool, policies):
        # The caller waits as it always does (`OPEN_TIMEOUT`, else a 503): the task is handed out again
        # in that time and the complaint is opened.
        reference = await first
        assert workflow_id(reference) == lost
        row = await pool.fetchrow("SELECT status, last_seq FROM complaints WHERE reference = $1", reference)
        assert row is not None and (row["status"], row["last_seq"]) == ("received", 0)

        # The caller retries anyway (its answer got lost): the same complaint, not a second one.
        assert await opening() == reference
        opened = await pool.fetchval("SELECT count(*) FROM complaints WHERE workflow_id = $1", lost)
        assert opened == 1

    history = await client.get_workflow_handle(lost).fetch_history()
    timed_out = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT]
    assert len(timed_out) == 1  # the lost task, handed to the running worker after its timeout


async def test_the_first_run_continues_as_new_with_the_long_task_timeout_once_it_grows(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env)
        reference = await open_case(
            pool=pool,
            temporal=env.client,
            task_queue=task_queue,
            policy=policies["bexley"],
            intake=intake("bexley", received),
            actor=OFFICER,
        )
        handle = env.client.get_workflow_handle(workflow_id(reference))
        opening = await handle.describe()
        assert opening.raw_description.execution_config.default_workflow_task_timeout.seconds == (
            OPENING_TASK_TIMEOUT.total_seconds()
        )
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        # Long notes, one at a time: each puts its text (encrypted) in the history, about 10 KB a note.
        notes = 2 * OPENING_RUN_BYTES_LIMIT // LONGEST_NOTE
        for n in range(notes):
            text = (f"{n} " + "x" * LONGEST_NOTE)[:LONGEST_NOTE]
            await act(handle, "add_note", cmd.AddNote(actor=INVESTIGATOR, text=text))
        state = await state_of(handle)
        assert (state.notes_added, state.status) == (notes, Status.ACKNOWLEDGED)

        continued = await handle.describe()
        assert continued.run_id != opening.run_id
        assert continued.raw_description.execution_config.default_workflow_task_timeout.seconds == (
            TASK_TIMEOUT.total_seconds()
        )
        # The first run continued as new because of its own limit (a later run's are eight times larger),
        # soon after reaching it.
        first = await env.client.get_workflow_handle(handle.id, run_id=opening.run_id).fetch_history()
        assert first.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        size = sum(event.ByteSize() for event in first.events)
        assert OPENING_RUN_BYTES_LIMIT < size < OPENING_RUN_BYTES_LIMIT * 5 // 4
        # ...and the run it continued as keeps the long limits: no second continue-as-new at this size.
        latest = await env.client.get_workflow_handle(handle.id, run_id=continued.run_id).fetch_history()
        assert not any(
            event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
            for event in latest.events
        )
