"""The scheduled jobs: their schedules exist once however often workers start, and each run does its job.

Schedules need the real Temporal dev server (the time-skipping server has none); each job's workflow is run
directly on the time-skipping server, with a worker, over a PostgreSQL database of this module's own (the
digest reads every complaint in its database, so other tests' complaints must not be there).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    WorkflowExecutionStatus,
)
from temporalio.testing import WorkflowEnvironment

from activities.digest import DigestResult
from core.schedules import OVERDUE_DIGEST, RECONCILE, ensure_schedules, scheduled_jobs
from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.temporal import workflow_id
from devstack.mail import MailCatcher, list_messages, read_message
from devstack.servers import free_port, register_search_attributes
from domain import commands as cmd
from domain.policy import Policy
from notifications.channels import SmtpSender
from notifications.dispatcher import OutboxDispatcher
from store.complaints import ComplaintRepository
from store.db import create_pool, migrate
from tests.conftest import local_dev_server, new_database
from tests.factories import LONDON, OFFICER, act, intake, open_complaint, quiet_monday, running_worker
from workflows.digest import DigestRun, OverdueDigestWorkflow
from workflows.reconcile import ReconcileResult, ReconcileRun, ReconcileWorkflow

# ------------------------------------------------------------------------------------------ schedules


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    # Without the search attributes: a test registers them where it needs them.
    async with local_dev_server(search_attributes=False) as env:
        yield env


async def _listed_schedule_ids(client: Client, expected: set[str]) -> list[str]:
    """Every schedule id the server lists, once the expected ones show (the list is eventually consistent)."""
    for _ in range(100):
        ids = [entry.id async for entry in await client.list_schedules()]
        if expected <= set(ids):
            return ids
        await asyncio.sleep(0.1)
    raise AssertionError(f"schedules {expected} never listed")


async def test_the_schedules_exist_exactly_once_after_three_start_ups(
    dev_server: WorkflowEnvironment,
) -> None:
    jobs = scheduled_jobs()
    for _ in range(3):  # three workers starting (or one restarted three times)
        await ensure_schedules(dev_server.client, "complaints", jobs)

    ids = await _listed_schedule_ids(dev_server.client, {OVERDUE_DIGEST, RECONCILE})
    assert sorted(ids) == sorted(job.schedule_id for job in jobs)
    assert ids.count(OVERDUE_DIGEST) == 1 and ids.count(RECONCILE) == 1

    digest = await dev_server.client.get_schedule_handle(OVERDUE_DIGEST).describe()
    action = digest.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "OverdueDigest" and action.task_queue == "complaints"
    calendar = digest.schedule.spec.calendars[0]
    assert [(r.start, r.end) for r in calendar.hour] == [(8, 8)]
    assert [(r.start, r.end) for r in calendar.minute] == [(0, 0)]
    assert digest.schedule.spec.time_zone_name == "Europe/London"
    # The next run is 08:00 London time, whatever the season.
    next_run = digest.info.next_action_times[0].astimezone(LONDON)
    assert (next_run.hour, next_run.minute) == (8, 0)

    reconcile = await dev_server.client.get_schedule_handle(RECONCILE).describe()
    assert isinstance(reconcile.schedule.action, ScheduleActionStartWorkflow)
    assert reconcile.schedule.action.workflow == "Reconcile"


async def test_a_triggered_schedule_runs_its_job_on_the_worker_with_a_visible_result(
    dev_server: WorkflowEnvironment, clean: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    queue = f"scheduled-{uuid.uuid4().hex[:6]}"
    await register_search_attributes(dev_server.client, SEARCH_ATTRIBUTE_TYPES)
    await ensure_schedules(dev_server.client, queue, scheduled_jobs())
    async with running_worker(dev_server, clean, policies, queue):
        for schedule_id in (RECONCILE, OVERDUE_DIGEST):
            handle = dev_server.client.get_schedule_handle(schedule_id)
            triggered_on = datetime.now(LONDON).date()
            await handle.trigger()
            for _ in range(200):
                recent = (await handle.describe()).info.recent_actions
                if recent:
                    break
                await asyncio.sleep(0.1)
            action = recent[0].action
            assert isinstance(action, ScheduleActionExecutionStartWorkflow)
            run = dev_server.client.get_workflow_handle(action.workflow_id)
            result = await asyncio.wait_for(run.result(), timeout=60)
            assert (await run.describe()).status == WorkflowExecutionStatus.COMPLETED
            if schedule_id == RECONCILE:  # an empty database: nothing to check
                assert (result["checked"], result["started"], result["flagged"]) == (0, 0, 0)
            else:  # no managers yet: nobody to write to, on today's London date
                assert result["digests"] == []
                assert result["on"] in {str(triggered_on), str(datetime.now(LONDON).date())}


# ------------------------------------------------------------------------------------------- database


@pytest.fixture(scope="module")
async def db(postgres_server_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(await new_database(postgres_server_url, "complaints_jobs"), max_size=8)
    await migrate(pool)
    yield pool
    await pool.close()


@pytest.fixture
async def clean(db: asyncpg.Pool) -> asyncpg.Pool:
    await db.execute("TRUNCATE notifications, complaint_events, complaints, staff_users CASCADE")
    return db


async def _case(
    db: asyncpg.Pool, policy_id: str, received: datetime, *, reference: str | None = None, **row: Any
) -> str:
    """A complaint in the read model as the workflow would have left it (`row`: columns to set)."""
    reference = reference or f"T-{uuid.uuid4().hex[:8].upper()}"
    named = row.pop("staff_complained_about", [])
    await ComplaintRepository(db).insert_intake(
        reference=reference,
        workflow_id=workflow_id(reference),
        intake=intake(policy_id, received, staff_complained_about=named),
        created_by=OFFICER.id,
    )
    if row:
        columns = ", ".join(f"{name} = ${index}" for index, name in enumerate(row, start=2))
        await db.execute(f"UPDATE complaints SET {columns} WHERE reference = $1", reference, *row.values())
    return reference


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON) - timedelta(microseconds=1)


# --------------------------------------------------------------------------------------------- digest


async def test_the_overdue_digest_tells_each_manager_what_is_late_and_due_at_each_council(
    temporal_env: WorkflowEnvironment, clean: asyncpg.Pool, policies: dict[str, Policy], tmp_path: Path
) -> None:
    db, queue = clean, f"digest-{uuid.uuid4().hex[:6]}"
    monday = quiet_monday(await temporal_env.get_current_time())
    received = datetime.combine(monday - timedelta(days=21), time(10), tzinfo=LONDON)
    await db.executemany(
        "INSERT INTO staff_users (id, name, role, password_hash) VALUES ($1, $2, $3, 'x')",
        [
            ("maya.manager", "Maya Manager", "manager"),
            ("mo.manager", "Mo Manager", "manager"),
            ("olivia.officer", "Olivia Officer", "complaints_officer"),
        ],
    )
    late = await _case(
        db,
        "bexley",
        received,
        status="acknowledged",
        overdue=True,
        respond_by=monday - timedelta(days=3),
        next_deadline=_end_of(monday - timedelta(days=3)),
        assigned_to="ian.investigator",
    )
    # Wednesday is the 2nd working day after Monday: due soon. Thursday is not.
    due_wednesday = await _case(
        db,
        "bexley",
        received,
        acknowledge_by=monday + timedelta(days=2),
        next_deadline=_end_of(monday + timedelta(days=2)),
    )
    await _case(
        db,
        "bexley",
        received,
        status="acknowledged",
        respond_by=monday + timedelta(days=3),
        next_deadline=_end_of(monday + timedelta(days=3)),
    )
    await _case(db, "bexley", received, status="closed", overdue=True)
    # A responded complaint's next deadline is the resident's window to escalate: nothing the council owes.
    await _case(db, "bexley", received, status="responded", next_deadline=_end_of(monday + timedelta(days=1)))
    about_maya = await _case(
        db,
        "bexley",
        received,
        staff_complained_about=["maya.manager"],
        status="acknowledged",
        overdue=True,
        respond_by=monday - timedelta(days=1),
        next_deadline=_end_of(monday - timedelta(days=1)),
    )
    westminster_late = await _case(
        db,
        "westminster",
        received,
        status="awaiting_information",
        overdue=True,
        respond_by=monday - timedelta(days=7),
        next_deadline=_end_of(monday - timedelta(days=7)),
    )

    async with running_worker(temporal_env, db, policies, queue):
        result = await temporal_env.client.execute_workflow(
            OverdueDigestWorkflow.run, DigestRun(on=monday), id=f"digest-{queue}", task_queue=queue
        )
        again = await temporal_env.client.execute_workflow(
            OverdueDigestWorkflow.run, DigestRun(on=monday), id=f"digest-again-{queue}", task_queue=queue
        )
        # As the schedule runs it (no argument): the day is the London date of the run.
        before = (await temporal_env.get_current_time()).astimezone(LONDON).date()
        today = await temporal_env.client.execute_workflow(
            OverdueDigestWorkflow.run, id=f"digest-today-{queue}", task_queue=queue
        )
        assert today.on in {before, (await temporal_env.get_current_time()).astimezone(LONDON).date()}
    assert isinstance(result, DigestResult) and result.managers == 2
    sent = {(d.manager, d.policy_id): (d.overdue, d.due_soon) for d in result.digests}
    assert sent == {
        ("maya.manager", "bexley"): ([late], [due_wednesday]),
        ("maya.manager", "westminster"): ([westminster_late], []),
        ("mo.manager", "bexley"): ([late, about_maya], [due_wednesday]),
        ("mo.manager", "westminster"): ([westminster_late], []),
    }
    # A second run on the same day queues nothing twice.
    assert again.digests == result.digests
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE id LIKE $1", f"%:{monday}:%") == 4
    await db.execute("DELETE FROM notifications WHERE id NOT LIKE $1", f"%:{monday}:%")

    # The outbox delivers them like any letter: one e-mail per manager and council.
    catcher = MailCatcher(tmp_path / "mail", "127.0.0.1", free_port()).start()
    try:
        smtp = SmtpSender(host=catcher.host, port=catcher.port, mail_from="complaints@council.example")
        assert await OutboxDispatcher(db, smtp, policies).run_once() == 4
    finally:
        catcher.stop()
    mail = {
        (message["to"], message["subject"]): read_message(catcher.folder, message["name"])
        for message in list_messages(catcher.folder)
    }
    day = f"{monday:%A} {monday.day} {monday:%B %Y}"
    maya_bexley = mail[
        (
            "maya.manager@council.example",
            f"London Borough of Bexley: 1 complaint overdue, 1 due within 2 working days ({day})",
        )
    ]
    assert maya_bexley is not None
    text: str = maya_bexley["text"]
    stage_1 = policies["bexley"].stages[0].name
    assert f"- {late} ({stage_1}, acknowledged, housing-repairs): response was due by" in text
    assert "assigned to ian.investigator" in text
    wednesday = monday + timedelta(days=2)
    assert f"- {due_wednesday} ({stage_1}, received, housing-repairs): acknowledgement due by" in text
    assert f"{wednesday:%A} {wednesday.day} {wednesday:%B %Y}" in text
    assert about_maya not in text  # she is named in it: conflict of interest
    assert "Ada Resident" not in text and "ada@example.org" not in text  # no personal data
    mo_bexley = mail[
        (
            "mo.manager@council.example",
            f"London Borough of Bexley: 2 complaints overdue, 1 due within 2 working days ({day})",
        )
    ]
    assert mo_bexley is not None and about_maya in mo_bexley["text"]
    assert {to for to, _ in mail} == {"maya.manager@council.example", "mo.manager@council.example"}


# ------------------------------------------------------------------------------------- reconciliation


async def test_the_reconciliation_repairs_drift_starts_lost_intakes_and_flags_missing_workflows(
    temporal_env: WorkflowEnvironment, clean: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    db, queue = clean, f"reconcile-{uuid.uuid4().hex[:6]}"
    now = await temporal_env.get_current_time()
    async with running_worker(temporal_env, db, policies, queue):
        handle = await open_complaint(temporal_env, queue, intake("bexley", now))
        acknowledged = await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        drifted = acknowledged.reference
        # A lost write: the row and trail lag one event behind the workflow.
        await db.execute(
            "UPDATE complaints SET status = 'received', last_seq = last_seq - 1 WHERE reference = $1", drifted
        )
        await db.execute(
            "DELETE FROM complaint_events WHERE reference = $1 AND seq = $2", drifted, acknowledged.seq
        )
        # Stored by the API an hour ago, but Temporal was unreachable: never started.
        lost_intake = await _case(db, "bexley", now - timedelta(hours=1))
        await db.execute(
            "UPDATE complaints SET created_at = now() - interval '1 hour' WHERE reference = $1", lost_intake
        )
        being_started = await _case(db, "bexley", now)  # the API may be starting it right now
        names_staff = await _case(db, "bexley", now - timedelta(hours=1), staff_complained_about=["ian.x"])
        await db.execute(
            "UPDATE complaints SET created_at = now() - interval '1 hour' WHERE reference = $1", names_staff
        )
        lost_workflow = await _case(
            db, "westminster", now - timedelta(days=3), status="acknowledged", last_seq=2
        )
        await _case(
            db, "bexley", now - timedelta(days=90), status="closed", last_seq=9
        )  # retention: no fault

        with temporal_env.auto_time_skipping_disabled():
            result = await temporal_env.client.execute_workflow(
                ReconcileWorkflow.run, ReconcileRun(page_size=2), id=f"reconcile-{queue}", task_queue=queue
            )
        assert isinstance(result, ReconcileResult)
        assert (result.checked, result.started, result.repaired, result.flagged) == (5, 1, 1, 2)
        assert result.restored == 0  # this server cannot list workflows: looked for on the dev server below
        assert result.repaired_references == [drifted]
        assert result.started_references == [lost_intake]
        assert sorted(result.flagged_references) == sorted([names_staff, lost_workflow])

        row = await db.fetchrow("SELECT status, last_seq FROM complaints WHERE reference = $1", drifted)
        assert row is not None and (row["status"], row["last_seq"]) == ("acknowledged", acknowledged.seq)
        assert (
            await db.fetchval("SELECT count(*) FROM complaint_events WHERE reference = $1", drifted)
            == acknowledged.events
        )
        # The started complaint runs: its workflow records its receipt in its row.
        for _ in range(100):
            if await db.fetchval("SELECT last_seq FROM complaints WHERE reference = $1", lost_intake) >= 0:
                break
            await asyncio.sleep(0.1)
        started = await temporal_env.client.get_workflow_handle(workflow_id(lost_intake)).describe()
        assert started.workflow_type == "Complaint"
        assert await db.fetchval("SELECT last_seq FROM complaints WHERE reference = $1", lost_intake) >= 0
        assert await db.fetchval("SELECT last_seq FROM complaints WHERE reference = $1", being_started) == -1
        flags = await db.fetch(
            "SELECT reference FROM audit_log WHERE action = 'workflow_missing' AND reference = ANY($1)",
            [names_staff, lost_workflow],
        )
        assert sorted(flag["reference"] for flag in flags) == sorted([names_staff, lost_workflow])

        # A second night finds nothing left to repair or start (the flags stand until staff act).
        with temporal_env.auto_time_skipping_disabled():
            second = await temporal_env.client.execute_workflow(
                ReconcileWorkflow.run, ReconcileRun(), id=f"reconcile-2-{queue}", task_queue=queue
            )
        assert (second.started, second.repaired, second.flagged) == (0, 0, 2)


async def test_the_reconciliation_restores_a_lost_case_row_from_its_running_workflow(
    dev_server: WorkflowEnvironment, clean: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    """Listing workflows needs the dev server (the time-skipping server cannot list them)."""
    db, queue = clean, f"restore-{uuid.uuid4().hex[:6]}"
    await register_search_attributes(dev_server.client, SEARCH_ATTRIBUTE_TYPES)
    async with running_worker(dev_server, db, policies, queue):
        handle = await open_complaint(
            dev_server, queue, intake("bexley", await dev_server.get_current_time())
        )
        state = await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        reference = state.reference
        # The row is lost (a restore from an old backup, say), with its trail and letters.
        for table in ("notifications", "complaint_events", "complaint_stages", "complaints"):
            await db.execute(f"DELETE FROM {table} WHERE reference = $1", reference)
        for _ in range(100):  # the server's list of workflows catches up
            if [w async for w in dev_server.client.list_workflows(f'WorkflowId = "{handle.id}"')]:
                break
            await asyncio.sleep(0.1)

        result = await dev_server.client.execute_workflow(
            ReconcileWorkflow.run, ReconcileRun(), id=f"reconcile-{queue}", task_queue=queue
        )
        assert (result.checked, result.restored, result.restored_references) == (0, 1, [reference])
        row = await db.fetchrow("SELECT status, last_seq FROM complaints WHERE reference = $1", reference)
        assert row is not None and (row["status"], row["last_seq"]) == ("acknowledged", state.seq)
        assert (
            await db.fetchval("SELECT count(*) FROM complaint_events WHERE reference = $1", reference)
            == state.events
        )

        again = await dev_server.client.execute_workflow(
            ReconcileWorkflow.run, ReconcileRun(), id=f"reconcile-again-{queue}", task_queue=queue
        )
        assert (again.checked, again.repaired, again.restored) == (1, 0, 0)
