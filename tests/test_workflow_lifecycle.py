"""The complaint workflow on Temporal's time-skipping server, writing to the real database."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.models import Outcome, Status
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
    weekdays_after,
)


async def sent(pool: asyncpg.Pool, reference: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT template FROM notifications WHERE reference = $1 ORDER BY seq, id", reference
    )
    return [row["template"] for row in rows]


async def test_bexley_on_time_then_window_closes(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        received = await start_in_quiet_week(env)
        monday = received.date()
        handle = await open_complaint(env, task_queue, intake("bexley", received))
        state = await state_of(handle)
        assert state.status is Status.RECEIVED
        assert state.current.plan.acknowledge.on == weekdays_after(monday, 2)
        assert state.current.respond_by == weekdays_after(monday, 15)

        state = await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        assert state.status is Status.ACKNOWLEDGED
        await env.sleep(timedelta(days=7))
        state = await act(
            handle,
            "respond",
            cmd.Respond(
                actor=INVESTIGATOR, outcome=Outcome.PARTIALLY_UPHELD, findings="The repair was late."
            ),
        )
        assert state.status is Status.RESPONDED
        responded_on = monday + timedelta(days=7)
        window = state.current.escalation_request_by
        assert window is not None and window.on == weekdays_after(responded_on, 20)

        await env.sleep(timedelta(days=29))
        state = await state_of(handle)
        assert state.status is Status.CLOSED
        assert state.closure_reason == "escalation window closed"
        templates = await sent(pool, state.reference)
        assert templates[0] == "new_complaint"
        assert "acknowledgement" in templates and "response" in templates and templates[-1] == "closure"
