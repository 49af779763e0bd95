"""Inputs and sequences that must never freeze, double or mislead a complaint (from an independent review)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain import commands as cmd
from domain.models import ActionItem, Outcome, Status
from domain.policy import Policy
from tests.api_helpers import api, assert_problem, bearer, complaint_body
from tests.factories import (
    INVESTIGATOR,
    MANAGER,
    OFFICER,
    RESIDENT,
    REVIEWER,
    act,
    intake,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    state_of,
    trail_of,
    weekdays_after,
)

__all__ = ["api"]

Client = tuple[httpx.AsyncClient, Settings]


async def _created(client: httpx.AsyncClient, settings: Settings) -> str:
    response = await client.post(
        "/api/complaints", json=complaint_body(), headers=bearer("olivia.officer", settings)
    )
    assert response.status_code == 201
    reference: str = response.json()["reference"]
    return reference


async def test_text_postgres_cannot_store_is_refused_and_the_complaint_carries_on(api: Client) -> None:
    client, settings = api
    reference = await _created(client, settings)
    headers = bearer("olivia.officer", settings)
    bad = await client.post(
        f"/api/complaints/{reference}/add-note", json={"text": "x\u0000y"}, headers=headers
    )
    assert_problem(bad, 422, "control character")
    bad_intake = await client.post(
        "/api/complaints", json=complaint_body(summary="nul \u0000 here"), headers=headers
    )
    assert_problem(bad_intake, 422, "control character")
    # The complaint was not held up: the next action goes through at once.
    ok = await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=headers)
    assert ok.status_code == 200 and ok.json()["status"] == "acknowledged"


async def test_dates_no_calendar_can_count_are_refused(api: Client) -> None:
    client, settings = api
    reference = await _created(client, settings)
    officer, investigator = bearer("olivia.officer", settings), bearer("ian.investigator", settings)
    await client.post(f"/api/complaints/{reference}/acknowledge", json={}, headers=officer)
    far_action = {
        "outcome": "upheld",
        "findings": "x",
        "actions": [{"id": "a", "description": "d", "owner": "repairs", "due_on": "9999-12-31"}],
    }
    response = await client.post(
        f"/api/complaints/{reference}/respond", json=far_action, headers=investigator
    )
    assert_problem(response, 422, "2099-12-31")
    ancient = await client.post(
        "/api/complaints", json=complaint_body(received_at="0001-01-01T00:00:00Z"), headers=officer
    )
    assert_problem(ancient, 422, "2000-01-01")
    still = await client.post(
        f"/api/complaints/{reference}/respond",
        json={"outcome": "upheld", "findings": "x"},
        headers=investigator,
    )
    assert still.status_code == 200


async def test_a_retry_after_the_api_lost_its_answer_does_not_act_twice(
    api: Client, pool: asyncpg.Pool
) -> None:
    client, settings = api
    reference = await _created(client, settings)
    headers = {**bearer("olivia.officer", settings), "Idempotency-Key": "note-once"}
    first = await client.post(
        f"/api/complaints/{reference}/add-note", json={"text": "Called."}, headers=headers
    )
    assert first.status_code == 200
    # The API failed after the update ran and released the key (a crash, a lost connection)...
    await pool.execute("DELETE FROM idempotency_keys WHERE key = 'note-once'")
    again = await client.post(
        f"/api/complaints/{reference}/add-note", json={"text": "Called."}, headers=headers
    )
    assert again.status_code == 200
    # ...Temporal recognises the same update id and does not apply it again.
    notes = await pool.fetchval(
        "SELECT count(*) FROM complaint_events WHERE reference = $1 AND action = 'add_note'", reference
    )
    assert notes == 1


async def test_stage_2_dates_do_not_move_when_it_is_acknowledged(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env, live = temporal_env, dict(policies)
    async with running_worker(env, pool, live, task_queue):
        received = await start_in_quiet_week(env)
        handle = await open_complaint(env, task_queue, intake("bexley", received))
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await act(
            handle, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="x")
        )
        state = await act(handle, "request_escalation", cmd.RequestEscalation(actor=RESIDENT, reasons="No"))
        planned = state.current.respond_by
        # A bank holiday is announced before Stage 2 is acknowledged: the dates stand until someone asks.
        bexley = live["bexley"]
        closure = weekdays_after(received.date(), 3)
        live["bexley"] = bexley.model_copy(update={"closure_days": (*bexley.closure_days, closure)})
        state = await act(handle, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
        assert state.current.respond_by == planned


async def test_a_response_while_the_clock_is_stopped_is_on_time(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env, days=60)
        handle = await open_complaint(env, task_queue, intake("bexley", received))
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await env.sleep(timedelta(days=14))  # day 10: the clock stops while we wait for photos
        await act(handle, "request_information", cmd.RequestInformation(actor=INVESTIGATOR, request="Photos"))
        await env.sleep(timedelta(days=14))  # past the original due date, still waiting
        state = await act(
            handle,
            "respond",
            cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Fixed anyway"),
        )
        trail = await trail_of(pool, state.reference)
        assert trail[-1].detail["on_time"] is True
        assert state.current.pauses[-1].ended_at is not None
        assert not any(event.action == "response_overdue" for event in trail)


async def test_stage_2_is_independent_of_everyone_who_handled_stage_1(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env)
        handle = await open_complaint(env, task_queue, intake("bexley", received))
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee="ian.investigator"))
        await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee="ines.investigator"))  # handed over
        await act(handle, "respond", cmd.Respond(actor=MANAGER, outcome=Outcome.NOT_UPHELD, findings="x"))
        await act(handle, "request_escalation", cmd.RequestEscalation(actor=RESIDENT, reasons="No"))
        try:
            await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee="ian.investigator"))
        except Exception as error:  # the update is refused with the reason
            assert "independent" in str(getattr(error, "cause", error))
        else:
            raise AssertionError("the first Stage 1 investigator was assigned Stage 2")
        assert (await state_of(handle)).assigned_to is None


async def test_promised_actions_start_open_whatever_the_request_says(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env)
        handle = await open_complaint(env, task_queue, intake("westminster", received))
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        already_done = ActionItem.model_validate(
            {
                "id": "fix",
                "description": "Fix the door",
                "owner": "repairs",
                "due_on": weekdays_after(received.date(), 20),
                "completed_at": received,
                "completed_by": "nobody",
            }
        )
        state = await act(
            handle,
            "respond",
            cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="x", actions=[already_done]),
        )
        assert state.status is Status.RESPONDED
        assert state.actions[0].completed_at is None and state.actions[0].completed_by is None


async def test_a_date_recalculated_into_the_future_is_not_overdue_and_is_watched_again(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env, live = temporal_env, dict(policies)
    async with running_worker(env, pool, live, task_queue):
        received = await start_in_quiet_week(env, days=60)
        monday = received.date()
        handle = await open_complaint(env, task_queue, intake("bexley", received))
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await env.sleep(timedelta(days=22))  # Tuesday, working day 16: the day-15 response is overdue
        assert (await state_of(handle)).overdue
        # Three closure days in the first week are announced late; a manager applies them.
        bexley = live["bexley"]
        closures = tuple(weekdays_after(monday, n) for n in (2, 3, 4))
        live["bexley"] = bexley.model_copy(update={"closure_days": (*bexley.closure_days, *closures)})
        state = await act(
            handle, "recalculate_deadlines", cmd.RecalculateDeadlines(actor=MANAGER, reason="Closures")
        )
        assert state.current.respond_by == weekdays_after(monday, 18)  # Thursday: in the future again
        assert not state.overdue and not state.current.response_overdue
        await env.sleep(timedelta(days=3))  # Friday: the new date has passed too
        assert (await state_of(handle)).overdue
