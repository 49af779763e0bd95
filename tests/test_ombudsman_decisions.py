"""Ombudsman decisions as data: a determination from the complaint's ombudsman's own vocabulary, its orders
tracked to done like promised actions, complaint-handling failure findings, and reports counting them by
body and determination (the ombudsman's words stay a note on the event, never in the workflow's state)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.models import ActionItem, ActionKind
from domain.ombudsman_decisions import DETERMINATIONS, UNRECORDED, Finding, refusal
from domain.policy import Ombudsman, Policy
from store import reports
from tests.factories import MANAGER, OFFICER, act, intake, open_complaint, running_worker, start_in_quiet_week


@pytest.mark.parametrize(
    ("body", "theirs", "not_theirs"),
    [
        (Ombudsman.HOUSING_OMBUDSMAN, "severe_maladministration", "no_fault"),
        (Ombudsman.LGSCO, "fault_causing_injustice", "maladministration"),
        (Ombudsman.SPSO, "some_upheld", "partially_upheld"),
        (Ombudsman.PSOW, "early_resolution", "some_upheld"),
        (Ombudsman.NIPSO, "settled", "reasonable_redress"),
        # The published categories checked in December 2026 (domain/ombudsman_decisions.py cites them).
        (Ombudsman.HOUSING_OMBUDSMAN, "mediation", "early_resolution"),
        (Ombudsman.HOUSING_OMBUDSMAN, "partial_maladministration", "upheld_in_part"),
        (Ombudsman.HOUSING_OMBUDSMAN, "withdrawn", "discontinued"),
        (Ombudsman.LGSCO, "upheld_in_part", "some_upheld"),
    ],
)
def test_each_ombudsman_has_its_own_determinations(body: Ombudsman, theirs: str, not_theirs: str) -> None:
    assert theirs in DETERMINATIONS[body] and refusal(body, theirs) is None
    assert refusal(body, not_theirs) == (
        f"determination: {not_theirs!r} is not one of the {body.value}'s: {', '.join(DETERMINATIONS[body])}"
    )


def test_a_finding_is_one_code_for_the_reports_and_free_text_stays_unnamed() -> None:
    finding = Finding("housing-ombudsman", "maladministration", complaint_handling_failure=True)
    assert finding.code() == "housing-ombudsman:maladministration+complaint_handling_failure"
    assert Finding.of_code(finding.code()) == finding
    assert Finding.of_code("lgsco:no_fault") == Finding("lgsco", "no_fault")
    # A decision kept as free text before (a report once showed one named "__main__") is never a name.
    assert Finding.of_code("__main__") == Finding(UNRECORDED, UNRECORDED)
    assert Finding.of_code("Maladministration: see letter") == Finding(UNRECORDED, UNRECORDED)


async def test_a_scottish_decision_its_order_and_the_report(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    policy = policies["scotland-model"]
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(temporal_env, task_queue, intake(policy.id, received), policy=policy)
        await act(handle, "refer_to_ombudsman", cmd.ReferToOmbudsman(actor=OFFICER, ombudsman_reference="S1"))

        # Another ombudsman's word is refused, naming the SPSO's.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(
                handle,
                "record_ombudsman_decision",
                cmd.RecordOmbudsmanDecision(actor=MANAGER, determination="fault_causing_injustice"),
            )
        assert "is not one of the spso's: upheld, some_upheld" in str(refused.value.cause)

        due = received.date() + timedelta(days=10)
        order = ActionItem(id="apologise", description="Apologise in writing", owner="housing", due_on=due)
        state = await act(
            handle,
            "record_ombudsman_decision",
            cmd.RecordOmbudsmanDecision(
                actor=MANAGER,
                determination="some_upheld",
                complaint_handling_failure=True,
                orders=[order],
                decision="The council did not keep the complainant informed.",
            ),
        )
        assert state.ombudsman["determination"] == "some_upheld" and state.ombudsman["body"] == "spso"
        assert "decision" not in state.ombudsman  # the words are on the event only
        (tracked,) = state.actions
        assert (tracked.id, tracked.kind, tracked.due_on) == ("apologise", ActionKind.OMBUDSMAN_ORDER, due)
        detail = await pool.fetchval(
            "SELECT detail FROM complaint_events"
            " WHERE reference = $1 AND action = 'record_ombudsman_decision'",
            state.reference,
        )
        assert detail["decision"] == "The council did not keep the complainant informed."

        # Tracked like a promised action: overdue the day after its date, then done.
        await temporal_env.sleep(timedelta(days=12))
        state = await act(handle, "add_note", cmd.AddNote(actor=OFFICER, text="Chased the housing team."))
        assert state.actions[0].overdue
        row = await pool.fetchrow(
            "SELECT ombudsman_decision, actions_promised, actions_overdue FROM complaint_stages"
            " WHERE reference = $1",
            state.reference,
        )
        assert row is not None and dict(row) == {
            "ombudsman_decision": "spso:some_upheld+complaint_handling_failure",
            "actions_promised": 1,
            "actions_overdue": 1,
        }
        state = await act(handle, "complete_action", cmd.CompleteAction(actor=OFFICER, action_id="apologise"))
        assert state.actions[0].completed_at is not None

    day = received.date()
    report = await reports.performance(pool, start=day, end=day, policy_id=policy.id)
    assert report["ombudsman"]["determinations"]["spso"]["some_upheld"] >= 1
    assert report["ombudsman"]["complaint_handling_failures"] >= 1
    assert report["actions"]["done"] >= 1
