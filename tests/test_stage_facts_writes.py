"""A stage's report row is written only by an event that changes its facts (real workflow, time-skipping
server, real database): a note, an assignment or a message leaves the row and the report summaries as they
were, without their triggers and the per-council lock they take; an acknowledgement or an extension
rewrites the row, and the reports count what it changed."""

from __future__ import annotations

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.policy import Policy
from tests.factories import INVESTIGATOR, OFFICER, act
from tests.scenario_helpers import scenario


async def _stage_row(pool: asyncpg.Pool, reference: str) -> tuple[int, object, object]:
    row = await pool.fetchrow(
        "SELECT last_seq, acknowledged_on, respond_by FROM complaint_stages"
        " WHERE reference = $1 AND stage = 1",
        reference,
    )
    assert row is not None
    return row["last_seq"], row["acknowledged_on"], row["respond_by"]


async def _case_seq(pool: asyncpg.Pool, reference: str) -> int:
    seq: int = await pool.fetchval("SELECT last_seq FROM complaints WHERE reference = $1", reference)
    return seq


async def _acknowledged_in_summary(pool: asyncpg.Pool, policy_id: str) -> int:
    count: int = await pool.fetchval(
        "SELECT coalesce(sum(acknowledged), 0) FROM report_stage_months WHERE policy_id = $1", policy_id
    )
    return count


async def test_only_an_event_that_changes_the_facts_writes_the_stage_row(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    async with scenario(temporal_env, pool, policies, task_queue, "bexley") as s:
        before = await _acknowledged_in_summary(pool, "bexley")
        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        acknowledged = await _stage_row(pool, s.reference)
        assert acknowledged[0] == await _case_seq(pool, s.reference)
        assert acknowledged[1] is not None
        assert await _acknowledged_in_summary(pool, "bexley") == before + 1

        # Casework that changes no report fact: the case moves on, the stage row and summaries do not.
        await act(s.handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        await act(s.handle, "add_note", cmd.AddNote(actor=INVESTIGATOR, text="Visited the flat."))
        await act(s.handle, "add_note", cmd.AddNote(actor=INVESTIGATOR, text="Called the contractor."))
        assert await _case_seq(pool, s.reference) == acknowledged[0] + 3
        assert await _stage_row(pool, s.reference) == acknowledged
        assert await _acknowledged_in_summary(pool, "bexley") == before + 1

        # An extension changes the response date: the row is written again, with the new date.
        await act(
            s.handle,
            "extend",
            cmd.Extend(actor=INVESTIGATOR, new_respond_by=s.day(25), reason="Waiting for the contractor."),
        )
        extended = await _stage_row(pool, s.reference)
        assert extended[0] == await _case_seq(pool, s.reference)
        assert extended[2] == s.day(25) != acknowledged[2]
