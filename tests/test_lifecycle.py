"""One event sequence (domain/lifecycle.py) for the workflow and the tests: an event is applied to a copy
and swapped in once recorded, so nobody sees half an event and a failed record leaves nothing behind."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain import lifecycle
from domain.actions import ACTIONS
from domain.policy import Policy
from tests.direct_effects import fire_next, new_complaint, run
from tests.factories import (
    INVESTIGATOR,
    OFFICER,
    act,
    intake,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    state_of,
    trail_of,
)

MONDAY = datetime(2027, 3, 1, 10, tzinfo=ZoneInfo("Europe/London"))


async def test_an_action_works_on_a_copy_until_it_is_swapped_in(policies: dict[str, Policy]) -> None:
    ctx, effects = await new_complaint(policies["bexley"], intake("bexley", MONDAY))
    before = ctx.state.model_copy(deep=True)
    change = await lifecycle.take_action(
        ctx.state, ctx.policy, effects, ACTIONS["acknowledge"], cmd.Acknowledge(actor=OFFICER)
    )
    # What another action's validator or a query sees meanwhile: the complaint as it was.
    assert ctx.state == before and ctx.state.status.value == "received"
    assert change.state.status.value == "acknowledged" and change.state.seq == before.seq + 1
    assert change.transition.action == "acknowledge" and change.state.events == before.events + 1


async def test_the_tests_follow_the_workflows_sequence_and_retire_past_reminders(
    policies: dict[str, Policy],
) -> None:
    """tests/direct_effects.py re-implemented the sequence and never retired past reminders: a complaint
    logged days after receipt got a burst of stale reminders. It now runs domain.lifecycle itself."""
    received = MONDAY
    ctx, effects = await new_complaint(policies["bexley"], intake("bexley", received))
    effects.advance(timedelta(days=8))  # acknowledged late, after the acknowledgement reminders passed
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    stale = [at for at in ctx.state.current.plan.acknowledge.reminders if at <= effects.now()]
    assert all(f"acknowledge:{at.isoformat()}" in ctx.state.current.reminders_sent for at in stale)
    kind = await fire_next(ctx)
    assert kind != "reminder" or effects.trail[-1].detail["due"] == ctx.state.current.respond_by


async def test_a_record_that_fails_leaves_nothing_of_the_action_behind(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    env = temporal_env
    async with running_worker(env, pool, policies, task_queue):
        handle = await open_complaint(env, task_queue, intake("bexley", await start_in_quiet_week(env)))
        acknowledged = await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        # PostgreSQL cannot store a NUL in the event's detail (the API refuses it at the door; a direct
        # Update reaches the record): the action is refused as unrecordable...
        extend = cmd.Extend(
            actor=INVESTIGATOR,
            new_respond_by=acknowledged.current.respond_by + timedelta(days=7),
            reason="survey \u0000 booked",
        )
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(handle, "extend", extend)
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "Unrecordable"  # the API's 422
        # ...and nothing of it stays: not the new date, not the ledger line, not the sequence number.
        after = await state_of(handle)
        assert after == acknowledged
        # The next action records normally, with the ledger as it really changed.
        extended = await act(handle, "extend", extend.model_copy(update={"reason": "survey booked"}))
        assert extended.seq == acknowledged.seq + 1
        assert [entry.kind for entry in extended.current.ledger] == ["planned", "extended"]
        trail = await trail_of(pool, extended.reference)
        assert [event.action for event in trail] == ["receive", "acknowledge", "extend"]
        ledger = await pool.fetchval(
            "SELECT state->'ledger' FROM complaints WHERE reference = $1", extended.reference
        )
        assert [entry["kind"] for entry in ledger] == ["planned", "extended"]
