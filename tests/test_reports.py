"""Reports: the facts per stage in the read model and the figures computed from them, checked against the
known set of tests/report_scenario.py (hand-worked expectations in each test)."""

from __future__ import annotations

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain.policy import Policy
from tests.factories import running_worker
from tests.report_scenario import build_known_set, report_policies, stage_rows


async def test_each_stage_keeps_the_facts_reports_count(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    policies = report_policies(policies)
    async with running_worker(temporal_env, pool, policies, task_queue):
        known = await build_known_set(temporal_env, task_queue, policies)
        rows = await stage_rows(pool, known)
    day = known.day
    assert sorted(rows) == [("A", 1), ("B", 1), ("B", 2), ("C", 1), ("D", 1), ("E", 1)]
    a, b1, b2, c, d, e = (rows[key] for key in sorted(rows))

    assert (a["received_on"], a["acknowledge_by"], a["acknowledged_on"]) == (known.monday, day(2), day(1))
    assert (a["original_respond_by"], a["respond_by_when_answered"], a["responded_on"]) == (
        day(15),
        day(15),
        day(3),
    )
    assert (a["working_days_to_respond"], a["outcome"], a["ended"]) == (3, "upheld", None)
    assert (a["remedy_count"], a["compensation_pence"]) == (2, 15_000)
    assert [remedy["kind"] for remedy in a["remedies"]] == ["apology", "financial_redress"]

    # Late acknowledgement (day 3, due day 2); Stage 1 ended by the Stage 2 request, not closed.
    assert (b1["acknowledged_on"], b1["acknowledge_by"], b1["ended"], b1["closed_on"]) == (
        day(3),
        day(2),
        None,
        None,
    )
    # Stage 2: received when asked for, due 15 working days later, answered by a reviewer (independent).
    assert (b2["received_on"], b2["acknowledge_by"], b2["acknowledged_on"]) == (day(5), day(7), day(6))
    assert (b2["original_respond_by"], b2["responded_on"], b2["working_days_to_respond"]) == (
        day(20),
        day(8),
        3,
    )
    assert (b2["outcome"], b2["ended"], b2["closed_on"], b2["independent_reviewer"]) == (
        "partially_upheld",
        "closed",
        day(8),
        True,
    )

    # Extended by 5 working days (15 -> 20), answered on day 18: on time, but not within the original date.
    assert (c["extensions"], c["extension_working_days"], c["extended_with_agreement"]) == (1, 5, False)
    assert (c["original_respond_by"], c["respond_by"], c["respond_by_when_answered"]) == (
        day(15),
        day(20),
        day(20),
    )
    assert (c["responded_on"], c["working_days_to_respond"]) == (day(18), 18)

    assert (d["ended"], d["exclusion"], d["closed_on"], d["acknowledged_on"]) == (
        "declined",
        "service-request",
        day(1),
        None,
    )
    assert (e["ended"], e["closed_on"], e["responded_on"]) == ("withdrawn", day(2), None)

    cases = {
        row["reference"]: row
        for row in await pool.fetch(
            "SELECT reference, actions_promised, actions_done, actions_overdue, ombudsman_referred_on,"
            " ombudsman_decision FROM complaints WHERE reference = ANY($1::text[])",
            list(known.refs.values()),
        )
    }
    assert tuple(cases[known.refs["A"]].values())[1:] == (1, 0, 0, None, None)
    assert tuple(cases[known.refs["C"]].values())[1:] == (1, 1, 0, None, None)
    assert tuple(cases[known.refs["B"]].values())[1:] == (0, 0, 0, day(9), "Maladministration found")
