"""A complaint runs under the policy it froze when it started, and never fails for an operational reason.

During a rolling deploy a worker may hold a newer version of a council's file, or none yet: the complaint
keeps its own version for every date it computes, and a missing file is retried, not a reason to end it.
"""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.deadlines import DeadlineActivities, PolicyRequest
from domain import commands as cmd
from domain.policy import Policy
from tests.factories import (
    INVESTIGATOR,
    MANAGER,
    OFFICER,
    act,
    intake,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    weekdays_after,
)
from workflows.complaint.effects import ACTIVITY_RETRY


def _with_response_window(policy: Policy, working_days: int) -> Policy:
    stages = [
        stage.model_copy(update={"respond": stage.respond.model_copy(update={"amount": working_days})})
        for stage in policy.stages
    ]
    return policy.model_copy(update={"stages": stages})


async def test_every_date_comes_from_the_policy_the_complaint_froze(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    frozen = policies["bexley"]  # 15 working days to respond
    # The worker already holds next year's file: 25 working days. This complaint must not notice.
    newer = {**policies, "bexley": _with_response_window(frozen, 25)}
    async with running_worker(temporal_env, pool, newer, task_queue):
        received = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(temporal_env, task_queue, intake("bexley", received), policy=frozen)
        state = await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        assert state.current.respond_by == weekdays_after(received.date(), 15)
        await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        state = await act(
            handle,
            "recalculate_deadlines",
            cmd.RecalculateDeadlines(actor=MANAGER, reason="New data"),
        )
        assert state.current.respond_by == weekdays_after(received.date(), 15)


async def test_a_worker_without_the_councils_file_retries_instead_of_ending_the_complaint() -> None:
    activities = DeadlineActivities({})
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(activities.load_policy, PolicyRequest(policy_id="hartlepool"))
    assert raised.value.type == "UnknownPolicy"
    assert not raised.value.non_retryable  # another worker, or this one after the deploy, has the file
    assert "UnknownPolicy" not in (ACTIVITY_RETRY.non_retryable_error_types or [])
