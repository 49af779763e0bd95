"""Long-waiting complaints move to the code now deployed (issue 23, docs/upgrading.md).

The `move_to_current_code` signal makes a complaint continue as new at a safe point: its new run has the
same state, its timers still fire, and it records the code version it runs. `complaints
move-to-current-code` finds the running complaints of other code versions (a visibility query, on the dev
server) and signals each.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment

import worker
from cli.main import main
from core.code_moves import move_to_current_code
from core.settings import Settings, get_settings
from core.temporal import connect
from domain import commands as cmd
from domain.models import ComplaintState
from domain.policy import Policy
from tests.factories import (
    INVESTIGATOR,
    OFFICER,
    act,
    intake,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    state_of,
)
from workflows.complaint import ComplaintWorkflow
from workflows.complaint.version import CODE_VERSION


async def _continued(client: Client, workflow_id: str, run_id: str | None) -> tuple[str, list[HistoryEvent]]:
    """The run that continued `run_id` (once it has), and that new run's events so far."""
    async with asyncio.timeout(60):
        while True:
            history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
            for event in history.events:
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                    new_run = event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                    events = (
                        await client.get_workflow_handle(workflow_id, run_id=new_run).fetch_history()
                    ).events
                    return new_run, list(events)
            await asyncio.sleep(0.1)


def _recorded_versions(events: list[HistoryEvent]) -> list[str]:
    """The CodeVersion values a run upserted."""
    versions = []
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if "CodeVersion" in fields:
                versions.append(json.loads(fields["CodeVersion"].data))
    return versions


async def test_a_moved_complaint_keeps_its_state_and_its_timers_and_records_the_current_code(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env)
        handle: WorkflowHandle[ComplaintWorkflow, ComplaintState] = await open_complaint(
            env, task_queue, intake("bexley", received)
        )
        first_run = handle.result_run_id
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        # The signal arrives once an action has been accepted: the move waits for it (no action is left
        # half-applied, nothing is recorded twice). Nothing else is in flight when the run continues as new:
        # Temporal's time-skipping test server loses a query or update that meets a continue-as-new
        # (tests/test_workflow_bounded.py says more).
        note = await handle.start_update(
            "add_note",
            cmd.AddNote(actor=INVESTIGATOR, text="Called the resident."),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        await handle.signal("move_to_current_code")
        await note.result()
        new_run, _ = await _continued(env.client, handle.id, first_run)
        assert new_run != first_run
        # The first run's state as it ended, and the new run's as it began.
        before = await state_of(env.client.get_workflow_handle(handle.id, run_id=first_run))
        after = await state_of(env.client.get_workflow_handle(handle.id, run_id=new_run))
        assert after == before and after.notes_added == 1
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM complaint_events WHERE reference = $1 AND action = 'add_note'",
                after.reference,
            )
            == 1
        )

        # The new run acts, and the deadlines armed by the first run still fire in it.
        await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        await env.sleep(before.current.plan.respond.at - await env.get_current_time() + timedelta(hours=1))
        late = await state_of(handle)
        assert late.current.response_overdue and late.overdue
        alerts = await pool.fetchval(
            "SELECT count(*) FROM notifications WHERE reference = $1 AND template = 'overdue_alert'",
            after.reference,
        )
        assert alerts == 1
        # The new run says which code it runs on.
        history = await env.client.get_workflow_handle(handle.id, run_id=new_run).fetch_history()
        assert _recorded_versions(list(history.events))[:1] == [CODE_VERSION]


async def _listed(client: Client, query: str, count: int) -> None:
    async with asyncio.timeout(60):
        while (await client.count_workflows(query)).count < count:
            await asyncio.sleep(0.2)


async def test_the_command_moves_the_running_complaints_of_other_code_versions(
    temporal_dev_server: str,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = await connect(
        settings=Settings(_env_file=None, temporal_address=temporal_dev_server), environ={}
    )
    task_queue = f"moves-{uuid.uuid4().hex[:8]}"
    mine = f'TaskQueue = "{task_queue}"'
    env = WorkflowEnvironment.from_client(client)
    async with worker.build_worker(client, task_queue, pool, policies):
        handles = [
            await open_complaint(env, task_queue, intake(policy_id, datetime.now(UTC)))
            for policy_id in ("bexley", "westminster")
        ]
        runs = [handle.result_run_id for handle in handles]
        for handle in handles:
            await handle.execute_update("opened")  # its first task recorded this code's version
        await _listed(client, f'{mine} AND CodeVersion = "{CODE_VERSION}"', 2)

        # Every running complaint is on this release: nothing to move (the command, as an operator runs it).
        monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_dev_server)
        get_settings.cache_clear()
        code = await asyncio.to_thread(main, ["move-to-current-code", "--where", mine])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "moved 0 complaints" in out
        get_settings.cache_clear()

        # The next release: both are behind it. A dry run lists them; the move signals each.
        dry = await move_to_current_code(client, worker.WORKFLOWS, "2027.1.0", where=mine, dry_run=True)
        assert list(dry.signalled) == [CODE_VERSION] and dry.count == 2
        assert sorted(dry.signalled[CODE_VERSION]) == sorted(handle.id for handle in handles)
        moved = await move_to_current_code(client, worker.WORKFLOWS, "2027.1.0", where=mine)
        assert sorted(moved.signalled[CODE_VERSION]) == sorted(handle.id for handle in handles)
        assert not moved.failed
        for handle, run in zip(handles, runs, strict=True):
            new_run, _ = await _continued(client, handle.id, run)
            assert (await handle.describe()).run_id == new_run
        for handle in handles:
            await handle.terminate(reason="test over")
