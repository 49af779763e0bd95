"""The read model can be rebuilt from the workflows (on a real Temporal dev server, which lists workflows)."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.models import ActionItem, Outcome
from domain.policy import Policy
from store.rebuild import rebuild_read_model
from store.report_summary import SUMMARY_TABLES
from tests.factories import INVESTIGATOR, MANAGER, OFFICER, act, intake, open_complaint, running_worker

POLICIES = ["bexley", "barking-dagenham", "westminster"]


async def _snapshot(pool: asyncpg.Pool, references: list[str]) -> list[tuple[object, ...]]:
    rows = await pool.fetch(
        "SELECT c.reference, c.status, c.stage, c.respond_by, c.outcome, c.last_seq,"
        " (SELECT count(*) FROM complaint_events e WHERE e.reference = c.reference) AS events"
        " FROM complaints c WHERE c.reference = ANY($1::text[]) ORDER BY c.reference",
        references,
    )
    return [tuple(row.values()) for row in rows]


async def _facts(pool: asyncpg.Pool, references: list[str]) -> list[tuple[object, ...]]:
    """The report facts per stage (complaint_stages) of these complaints."""
    rows = await pool.fetch(
        "SELECT reference, stage, policy_id, received_on, acknowledge_by, acknowledged_on, respond_by,"
        " respond_by_when_answered, responded_on, working_days_to_respond, outcome, ended"
        " FROM complaint_stages WHERE reference = ANY($1::text[]) ORDER BY reference, stage",
        references,
    )
    return [tuple(row.values()) for row in rows]


async def _restrictions(pool: asyncpg.Pool, references: list[str]) -> list[tuple[object, ...]]:
    rows = await pool.fetch(
        "SELECT reference, channels, until_on, lifted_at FROM contact_restrictions"
        " WHERE reference = ANY($1::text[]) ORDER BY reference",
        references,
    )
    return [tuple(row.values()) for row in rows]


async def test_a_lost_read_model_is_rebuilt_from_the_workflows(
    dev_server: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    env, queue = dev_server, f"rebuild-{uuid.uuid4().hex[:6]}"
    references: list[str] = []
    async with running_worker(env, pool, policies, queue):
        now = await env.get_current_time()
        for policy_id in POLICIES:
            handle = await open_complaint(env, queue, intake(policy_id, now))
            await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
            state = await act(
                handle,
                "respond",
                cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Late repair."),
            )
            references.append(state.reference)
        # One of them has a contact restriction: the rebuild must bring it back, or it is not enforced.
        restrict = cmd.RestrictContact(
            actor=MANAGER, reason="Abusive calls.", until=date(2099, 1, 1), review_on=date(2098, 1, 1)
        )
        await act(handle, "restrict_contact", restrict)
        restrictions = await _restrictions(pool, references)
        assert [row[1:] for row in restrictions] == [(["messages", "evidence"], date(2099, 1, 1), None)]
        before = await _snapshot(pool, references)
        assert [row[1] for row in before] == ["responded", "responded", "responded"]
        facts = await _facts(pool, references)
        assert [(row[1], row[10]) for row in facts] == [(1, "upheld")] * 3

        # Lose the read model (a restore from an old backup, say).
        await pool.execute("DELETE FROM notifications WHERE reference = ANY($1::text[])", references)
        await pool.execute("DELETE FROM complaint_events WHERE reference = ANY($1::text[])", references)
        await pool.execute("DELETE FROM complaint_stages WHERE reference = ANY($1::text[])", references)
        await pool.execute("DELETE FROM contact_restrictions WHERE reference = ANY($1::text[])", references)
        await pool.execute("DELETE FROM complaints WHERE reference = ANY($1::text[])", references)
        assert await _snapshot(pool, references) == []

        rebuilt = await rebuild_read_model(
            env.client, pool, f'WorkflowType = "Complaint" AND TaskQueue = "{queue}"', policies=policies
        )
        assert rebuilt == 3
        assert await _snapshot(pool, references) == before
        assert await _facts(pool, references) == facts
        assert await _restrictions(pool, references) == restrictions
        # Running it again changes nothing, and brings back lost report summaries (nothing else writes them
        # here: the stage rows are unchanged, so their triggers have nothing to add).
        for table in SUMMARY_TABLES:
            await pool.execute(f"DELETE FROM {table}")
        await rebuild_read_model(env.client, pool, f'WorkflowType = "Complaint" AND TaskQueue = "{queue}"')
        assert await _snapshot(pool, references) == before
        summarised = await pool.fetchval(
            "SELECT sum(received) FROM report_stage_months WHERE policy_id = ANY($1::text[])", POLICIES
        )
        assert summarised == await pool.fetchval(
            "SELECT count(*) FROM complaint_stages WHERE policy_id = ANY($1::text[])", POLICIES
        )
        assert summarised >= 3


async def test_a_row_behind_its_workflow_keeps_the_texts_only_postgresql_has(
    dev_server: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    """Issue 23: the workflow keeps no action descriptions, so a row brought back in line with it keeps
    the ones it shows."""
    env, queue = dev_server, f"rebuild-{uuid.uuid4().hex[:6]}"
    async with running_worker(env, pool, policies, queue):
        handle = await open_complaint(env, queue, intake("bexley", await env.get_current_time()))
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        promised = ActionItem(
            id="fix-damp", description="Treat the damp", owner="repairs", due_on=date(2099, 1, 1)
        )
        state = await act(
            handle,
            "respond",
            cmd.Respond(
                actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Late repair.", actions=[promised]
            ),
        )
        # The row missed the last event (a restore from a backup taken just before it, say).
        await pool.execute(
            "UPDATE complaints SET last_seq = last_seq - 1 WHERE reference = $1", state.reference
        )
        rebuilt = await rebuild_read_model(
            env.client, pool, f'WorkflowType = "Complaint" AND TaskQueue = "{queue}"', policies=policies
        )
        assert rebuilt == 1
        row = await pool.fetchrow(
            "SELECT last_seq, state->'actions' AS actions FROM complaints WHERE reference = $1",
            state.reference,
        )
        assert row is not None and row["last_seq"] == state.seq
        assert [(item["id"], item["description"]) for item in row["actions"]] == [
            ("fix-damp", "Treat the damp")
        ]
