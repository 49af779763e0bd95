"""A complaint stays the same size in Temporal however much is written on it (issue 23).

A resident sent 365 messages of 9,900 characters and the workflow could no longer continue as new (its input
over Temporal's 2 MB), so its timers stopped. Here 1,000 maximum-length messages and 1,000 maximum-length
notes go to one complaint, with a continue-as-new in the middle: the state, the continue-as-new input, the
query and every update result stay under 64 KB, and every timer still fires afterwards.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.models import (
    ActionItem,
    Adjustments,
    Complainant,
    ComplaintState,
    Learning,
    Outcome,
    Remedy,
    RemedyKind,
    Representative,
    Status,
)
from domain.policy import Policy
from store.db import create_pool
from tests.factories import (
    INVESTIGATOR,
    OFFICER,
    RESIDENT,
    REVIEWER,
    act,
    intake,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    state_of,
)
from workflows.complaint import ComplaintWorkflow

LIMIT = 64 * 1024
LONGEST = 10_000  # the longest message or note the commands accept
EACH = 1_000


async def _payload_sizes(
    env: WorkflowEnvironment, handle: WorkflowHandle[ComplaintWorkflow, ComplaintState]
) -> tuple[list[int], list[int]]:
    """Over every run of the workflow: the continue-as-new inputs and the update results, in bytes as
    stored in the history (after the codec)."""
    inputs: list[int] = []
    results: list[int] = []
    run_id: str | None = handle.result_run_id
    while run_id:
        history = await env.client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        run_id = None
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                attributes = event.workflow_execution_continued_as_new_event_attributes
                inputs.append(sum(payload.ByteSize() for payload in attributes.input.payloads))
                run_id = attributes.new_execution_run_id
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                outcome = event.workflow_execution_update_completed_event_attributes.outcome
                results.append(sum(payload.ByteSize() for payload in outcome.success.payloads))
    return inputs, results


async def test_a_thousand_long_messages_and_notes_leave_the_complaint_small_and_its_timers_running(
    temporal_env: WorkflowEnvironment, database_url: str, policies: dict[str, Policy], task_queue: str
) -> None:
    # A pool of its own: the suite's shared pool (5 connections) is not where this flood should queue.
    async with await create_pool(database_url, max_size=10) as pool:
        await _flood(temporal_env, pool, policies, task_queue)


async def _flood(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env)
        handle = await open_complaint(
            env, task_queue, intake("bexley", received), continue_as_new_after_events=3_000
        )
        first_run = handle.result_run_id
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        acknowledged = await state_of(handle)
        text = "x" * LONGEST
        # One message and one note at a time, nothing else in flight: the note's update returns once its
        # workflow task is done, and the message sent before it was applied first. Temporal's time-skipping
        # test server does not survive a continue-as-new that meets a signal, an update or a query arriving
        # in the same workflow task (the run's next tasks time out for ever, where a real cluster retries
        # them on the new run): sent concurrently, this flood hung CI for an hour. The sizes and timers
        # measured here do not depend on the pace.
        for n in range(EACH):
            await handle.signal("new_information", cmd.NewInformationSignal(text=f"{n} {text}"[:LONGEST]))
            await handle.execute_update(
                "add_note", cmd.AddNote(actor=INVESTIGATOR, text=f"{n} {text}"[:LONGEST])
            )
        state = await state_of(handle)
        assert (state.notes_added, state.information_received) == (EACH, EACH)
        assert state.status is Status.ACKNOWLEDGED
        assert len(state.model_dump_json()) < LIMIT  # the query's answer, and the state itself
        described = await handle.describe()
        assert described.run_id != first_run  # it continued as new in the middle
        # The continued run keeps the long task timeout: a replay of a whole run under load never times
        # out into a loop of replays (workflows/complaint/limits.py).
        assert described.raw_description.execution_config.default_workflow_task_timeout.seconds == 60
        inputs, results = await _payload_sizes(env, handle)
        assert inputs and max(inputs) < LIMIT
        assert len(results) >= EACH and max(results) < LIMIT
        # Every text reached the event trail in PostgreSQL, once.
        counted = await pool.fetchrow(
            "SELECT count(*) FILTER (WHERE action = 'add_note') AS notes,"
            " count(*) FILTER (WHERE action = 'add_information') AS messages,"
            " min(length(coalesce(detail->>'text', detail->>'summary'))) AS shortest"
            " FROM complaint_events WHERE reference = $1",
            state.reference,
        )
        assert counted is not None and (counted["notes"], counted["messages"]) == (EACH, EACH)
        assert counted["shortest"] == LONGEST

        # Staff still act, and the timers armed before the continue-as-new still fire.
        await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        await env.sleep(
            acknowledged.current.plan.respond.at - await env.get_current_time() + timedelta(hours=1)
        )
        late = await state_of(handle)
        assert late.current.response_overdue and late.overdue
        reminders = acknowledged.current.plan.respond.reminders
        assert reminders and all(
            f"respond:{at.isoformat()}" in late.current.reminders_sent for at in reminders
        )
        alerts = await pool.fetchval(
            "SELECT count(*) FROM notifications WHERE reference = $1 AND template = 'overdue_alert'",
            state.reference,
        )
        assert alerts == 1


def _longest(tag: str, length: int) -> str:
    """A text of exactly `length` characters, told apart by its start."""
    return (tag + " " + "x" * length)[:length]


def _promised(prefix: str, count: int, due_on: date) -> list[ActionItem]:
    return [
        ActionItem(
            id=_longest(f"{prefix}{n}", 60),
            description=_longest(f"{prefix}{n}", 2_000),
            owner=_longest("owner", 200),
            due_on=due_on,
        )
        for n in range(count)
    ]


async def test_every_text_at_its_longest_stays_out_of_the_workflow(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """Issue 23: the intake's story, the Stage 2 request, the findings, the lessons, remedies and actions,
    notes and messages, each at the longest the commands accept, reach PostgreSQL; the workflow keeps ids,
    counts, dates and codes, so its state, query, continue-as-new inputs and update results stay small."""
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env)
        complaint = intake(
            "bexley",
            received,
            complainant=Complainant(
                name=_longest("name", 200),
                email="ada@example.org",
                phone="0" * 40,
                address=_longest("address", 500),
                adjustments=Adjustments(details=_longest("needs", 1_000)),
            ),
            representative=Representative(
                name=_longest("rep", 200), relationship=_longest("rel", 200), consent_recorded=True
            ),
            summary=_longest("story", 10_000),
            desired_outcome=_longest("wanted", 5_000),
        )
        # A continue-as-new every few actions: each input is measured.
        handle = await open_complaint(env, task_queue, complaint, continue_as_new_after_events=30)
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER, note=_longest("ack", 5_000)))
        for n in range(3):
            await act(handle, "add_note", cmd.AddNote(actor=INVESTIGATOR, text=_longest(f"note{n}", LONGEST)))
            await handle.signal(
                "new_information", cmd.NewInformationSignal(text=_longest(f"msg{n}", LONGEST))
            )
        await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        extended = await act(
            handle,
            "extend",
            cmd.Extend(
                actor=INVESTIGATOR,
                new_respond_by=(await state_of(handle)).current.respond_by + timedelta(days=7),
                reason=_longest("extension", 5_000),
            ),
        )
        assert [entry.reason for entry in extended.current.ledger if entry.kind == "extended"] == [""]
        # The case record's ledger shows the reason (the resident's and the staff's pages read it there).
        kept_ledger = await pool.fetchval(
            "SELECT state->'ledger' FROM complaints WHERE reference = $1", extended.reference
        )
        assert [entry["reason"] for entry in kept_ledger if entry["kind"] == "extended"] == [
            _longest("extension", 5_000)
        ]
        due = received.date() + timedelta(days=120)
        actions = _promised("act", 30, due)
        improvements = _promised("imp", 20, due)
        remedies = [
            Remedy(
                kind=RemedyKind.FINANCIAL_REDRESS, description=_longest(f"rem{n}", 2_000), amount_pence=100
            )
            for n in range(20)
        ]
        await act(
            handle,
            "respond",
            cmd.Respond(
                actor=INVESTIGATOR,
                outcome=Outcome.PARTIALLY_UPHELD,
                findings=_longest("findings", 20_000),
                remedies=remedies,
                actions=actions,
                learning=Learning(
                    root_cause="process-not-followed",
                    lessons=_longest("lessons", 5_000),
                    improvements=improvements,
                ),
            ),
        )
        reasons, wanted = _longest("reasons", 10_000), _longest("stage2-wanted", 5_000)
        await act(
            handle,
            "request_escalation",
            cmd.RequestEscalation(actor=RESIDENT, reasons=reasons, outcome_wanted=wanted),
        )
        await act(handle, "acknowledge", cmd.Acknowledge(actor=REVIEWER, note=_longest("ack2", 5_000)))
        await act(
            handle,
            "respond",
            cmd.Respond(
                actor=REVIEWER,
                outcome=Outcome.UPHELD,
                findings=_longest("findings2", 20_000),
                actions=_promised("second", 5, due),
            ),
        )
        await act(handle, "complete_action", cmd.CompleteAction(actor=OFFICER, action_id=actions[0].id))
        for _ in range(200):  # the signals are applied after `signal` returns
            state = await state_of(handle)
            if state.information_received == 3:
                break
            await asyncio.sleep(0.05)

        assert state.information_received == 3 and state.notes_added == 3 and state.stage == 2
        assert len(state.actions) == 55 and state.current.root_cause is None
        assert state.stages[0].root_cause == "process-not-followed"
        kept = state.model_dump_json()
        assert len(kept) < LIMIT
        # No text written on the complaint is in the workflow (every one starts with its tag).
        for tag in (
            "story",
            "wanted",
            "name",
            "address",
            "needs",
            "rep",
            "reasons",
            "stage2-wanted",
            "lessons",
        ):
            assert f'"{tag} x' not in kept and f"{tag} xxxxxxxx" not in kept, tag
        assert "act0 xxxx" not in kept.replace(actions[0].id, "")  # the id is kept, not the description
        inputs, results = await _payload_sizes(env, handle)
        assert inputs and max(inputs) < LIMIT  # it continued as new (more than once)
        assert results and max(results) < LIMIT

        # PostgreSQL has every text, and the letters and the case record show them.
        case = await pool.fetchrow(
            "SELECT length(summary) AS story, length(desired_outcome) AS wanted, complainant_name,"
            " state->'actions' AS actions FROM complaints WHERE reference = $1",
            state.reference,
        )
        assert case is not None and (case["story"], case["wanted"]) == (10_000, 5_000)
        assert case["complainant_name"] == complaint.complainant.name
        descriptions = {item["id"]: item["description"] for item in case["actions"]}
        assert descriptions[actions[0].id] == actions[0].description
        assert descriptions[improvements[-1].id] == improvements[-1].description
        letters = {
            row["template"]: row["context"]
            for row in await pool.fetch(
                "SELECT template, context FROM notifications"
                " WHERE reference = $1 AND audience = 'complainant'",
                state.reference,
            )
        }
        # The Stage 2 acknowledgement restates what was asked, read from the request's event.
        assert (
            letters["stage2_acknowledgement"]["summary"],
            letters["stage2_acknowledgement"]["desired_outcome"],
        ) == (
            reasons,
            wanted,
        )
        assert letters["action_completed"]["description"] == actions[0].description
        responded = await pool.fetchval(
            "SELECT detail->>'lessons' FROM complaint_events WHERE reference = $1 AND action = 'respond'"
            " AND stage = 1",
            state.reference,
        )
        assert responded == _longest("lessons", 5_000)
