"""Learning and staff awareness counted from records (the SPSO's indicators 1 and 3, the annual report's
service improvements): the improvements recorded with responses and marked done, the ombudsman's orders
carried out, the root causes, and the training sessions a complaints manager recorded; hand-counted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain import commands as cmd
from domain.models import ActionItem, Learning, Outcome
from domain.policy import Policy
from store import report_learning, reports
from store.report_sources import rows_only
from tests.api_helpers import api, assert_problem, bearer  # noqa: F401 (fixture)
from tests.factories import (
    INVESTIGATOR,
    OFFICER,
    act,
    intake,
    open_complaint,
    running_worker,
    start_in_quiet_week,
)

POLICY = "scotland-model"
YEAR = (date(2033, 4, 1), date(2034, 3, 31))
PREFIX = "LRN-"


def _action(action_id: str, kind: str, description: str, due_on: str, completed_at: str | None = None) -> Any:
    return {
        "id": action_id,
        "kind": kind,
        "description": description,
        "owner": "housing",
        "due_on": due_on,
        "completed_at": completed_at,
    }


# (name, received, promised actions): the complaints' state as the record activity keeps it.
COMPLAINTS = [
    (
        "L1",
        "2033-05-10T09:00:00+01:00",
        [
            _action("l1-a", "improvement", "Damp reports triaged as urgent", "2033-07-01"),  # done below
            _action("l1-b", "improvement", "Repairs letters in plain English", "2033-08-01"),  # still open
            _action("l1-r", "remedy", "Treat the damp", "2033-06-01", "2033-06-01T10:00:00+00:00"),
        ],
    ),
    (
        "L2",
        "2033-09-01T09:00:00+01:00",
        [
            _action(
                "l2-a", "improvement", "Call back within a day", "2034-03-01", "2034-04-02T10:00:00+01:00"
            ),
            _action("l2-o", "ombudsman_order", "Apologise in writing", "2033-12-05", "2033-12-01T10:00:00Z"),
        ],
    ),
    (
        # Received the year before; its improvement done at 00:30 on 1 April (23:30 UTC on 31 March).
        "L3",
        "2033-02-15T09:00:00+00:00",
        [
            _action(
                "l3-a", "improvement", "Rent statements each quarter", "2033-04-30", "2033-03-31T23:30:00Z"
            )
        ],
    ),
    (
        # Done, then purged: still counted, its words gone.
        "L4",
        "2033-06-01T09:00:00+01:00",
        [
            _action(
                "l4-a", "improvement", "Name Mrs X's caseworker", "2033-10-30", "2033-10-10T09:00:00+01:00"
            )
        ],
    ),
]
# Root causes recorded with the responses (Stage 1 rows): L3's was the year before.
ROOT_CAUSES = {"L1": "delay", "L2": "delay", "L3": "communication", "L4": "communication"}


async def _clear(pool: asyncpg.Pool) -> None:
    await pool.execute("DELETE FROM complaint_stages WHERE reference LIKE $1", f"{PREFIX}%")
    await pool.execute("DELETE FROM complaints WHERE reference LIKE $1", f"{PREFIX}%")
    await pool.execute(
        "DELETE FROM staff_training_entries WHERE policy_id = $1 AND held_on BETWEEN $2 AND $3",
        POLICY,
        YEAR[0],
        YEAR[1] + timedelta(days=30),
    )


@pytest.fixture
async def learning_records(pool: asyncpg.Pool) -> AsyncIterator[None]:
    await _clear(pool)
    for name, received, actions in COMPLAINTS:
        reference = f"{PREFIX}{name}"
        # L1's first improvement is written open, then marked done by a later event (the trigger's update).
        written = [{**a, "completed_at": None} if a["id"] == "l1-a" else a for a in actions]
        await pool.execute(
            "INSERT INTO complaints (reference, workflow_id, policy_id, status, channel, service_area,"
            " complainant, summary, received_at, created_by, state)"
            " VALUES ($1, $1, $2, 'closed', 'web', 'housing', '{}', '', $3::timestamptz, 'test', $4::jsonb)",
            reference,
            POLICY,
            datetime.fromisoformat(received),
            {"status": "closed", "actions": written},
        )
        day = date.fromisoformat(received[:10])
        await pool.execute(
            "INSERT INTO complaint_stages (reference, stage, policy_id, service_area, received_on, day_zero,"
            " acknowledge_by, original_respond_by, respond_by, responded_on, working_days_to_respond,"
            " outcome, ended, root_cause, last_seq)"
            " VALUES ($1, 1, $2, 'housing', $3::date, $3, $3::date + 5, $3::date + 28, $3::date + 28,"
            " $3::date + 14, 10, 'upheld', 'closed', $4, 1)",
            reference,
            POLICY,
            day,
            ROOT_CAUSES[name],
        )
    done = [
        _action("l1-a", "improvement", "Damp reports triaged as urgent", "2033-07-01", "2033-06-20T15:00Z")
    ]
    await pool.execute(
        "UPDATE complaints SET state = jsonb_set(state, '{actions}',"
        " $2::jsonb || (state -> 'actions') - 0) WHERE reference = $1",
        f"{PREFIX}L1",
        done,
    )
    # The retention purge clears L4's state.
    await pool.execute("UPDATE complaints SET state = NULL WHERE reference = $1", f"{PREFIX}L4")
    yield
    await _clear(pool)


async def test_learning_and_training_from_the_records_with_hand_counted_figures(
    api: tuple[httpx.AsyncClient, Settings],  # noqa: F811
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    learning_records: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, settings = api
    manager = bearer("maya.manager", settings)
    where = {"policy_id": POLICY}

    # The training a complaints manager records: two sessions in the year, one after it.
    sessions = [
        ("2033-05-01", "training", "Complaint handling: the model procedure", 12),
        ("2033-11-15", "awareness", "Bulletin: learning from upheld complaints", 40),
        ("2034-04-10", "training", "Refresher for new starters", 5),
    ]
    for held_on, kind, topic, reached in sessions:
        body = {"held_on": held_on, "kind": kind, "topic": topic, "staff_reached": reached}
        recorded = await client.post("/api/reports/staff-training", params=where, json=body, headers=manager)
        assert recorded.status_code == 201, recorded.text
        assert (recorded.json()["entered_by"], recorded.json()["staff_reached"]) == ("maya.manager", reached)
    audited = await pool.fetchval(
        "SELECT after FROM audit_log WHERE action = 'staff_training_entry' ORDER BY id DESC LIMIT 1"
    )
    assert audited["kind"] == "training" and "Refresher" not in json.dumps(audited)  # the words are hashed
    # Only a manager records; the kinds are the two; a count is never negative.
    good = {"held_on": "2033-06-01", "kind": "training", "topic": "x", "staff_reached": 1}
    auditor = bearer("aude.auditor", settings)
    assert_problem(
        await client.post("/api/reports/staff-training", params=where, json=good, headers=auditor), 403
    )
    for bad in ({"kind": "party"}, {"staff_reached": -1}, {"held_on": "1999-12-31"}):
        refused = await client.post(
            "/api/reports/staff-training", params=where, json={**good, **bad}, headers=manager
        )
        assert_problem(refused, 422)
    nowhere = {"policy_id": "atlantis"}
    refused = await client.post("/api/reports/staff-training", params=nowhere, json=good, headers=manager)
    assert_problem(refused, 422, "unknown policy 'atlantis'")

    period = {"from": YEAR[0].isoformat(), "to": YEAR[1].isoformat()}
    listed = await client.get("/api/reports/staff-training", params={**where, **period}, headers=auditor)
    training = {
        "sessions": 2,
        "by_kind": {"training": 1, "awareness": 1},
        "staff_reached": 52,
        "entries": [
            {"held_on": "2033-05-01", "kind": "training", "topic": sessions[0][2], "staff_reached": 12},
            {"held_on": "2033-11-15", "kind": "awareness", "topic": sessions[1][2], "staff_reached": 40},
        ],
    }
    assert listed.json() == training
    listed = await client.get("/api/reports/staff-training", params={**nowhere, **period}, headers=auditor)
    assert_problem(listed, 422, "unknown policy 'atlantis'")

    spso = await client.get("/api/reports/indicators", params={**where, **period}, headers=manager)
    assert spso.status_code == 200, spso.text
    indicators = spso.json()["indicators"]
    # Lessons: three responses of the year's complaints (L1, L2, L4; L3 came the year before), two for delay.
    # Promised on the year's complaints: L1's two and L2's and L4's improvements (remedies and orders not).
    # Made in the year: L3's on 1 April (local date), L1's on 20 June, L4's on 10 October (its words purged);
    # L2's was done after the year. One ombudsman's order carried out (L2's).
    learning = {
        "responses_with_learning": 3,
        "root_causes": {"delay": 2, "communication": 1},
        "improvements_promised": 4,
        "improvements_made": 3,
        "ombudsman_orders_done": 1,
        "improvements": [
            {
                "completed_on": "2033-04-01",
                "service_area": "housing",
                "description": "Rent statements each quarter",
            },
            {
                "completed_on": "2033-06-20",
                "service_area": "housing",
                "description": "Damp reports triaged as urgent",
            },
            {"completed_on": "2033-10-10", "service_area": "housing", "description": report_learning.CLEARED},
        ],
    }
    assert indicators["learning"] == learning
    assert indicators["staff_awareness_and_training"] == training

    # The lessons as the stage rows alone give them (no month read from the summaries).
    with monkeypatch.context() as patch:
        patch.setattr(reports, "period_parts", rows_only)
        assert await report_learning.learning(pool, policy_id=POLICY, start=YEAR[0], end=YEAR[1]) == learning

    # The annual report's improvements section is the records, not a typed total.
    html = (await client.get("/api/reports/annual", params={"year": 2033, **where}, headers=manager)).text
    made = html.split('id="service-improvements"')[1].split("</table>")[0]
    assert (
        "<strong>3</strong>" in made and "(4 promised on this year" in made and "1\nof the ombudsman" in made
    )
    rows = made.split("<tr>")[2:]
    assert ["Rent statements" in rows[0], "Damp reports" in rows[1], "cleared" in rows[2]] == [True] * 3
    staff = html.split('id="staff-training"')[1].split("</p>")[0]
    assert "2 sessions recorded (1 training, 1 awareness), reaching 52 staff" in staff


async def test_an_improvement_recorded_with_a_response_counts_once_marked_done(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """Through the workflow: a response's improvements are promised; the one marked done is made that day."""
    policy = policies[POLICY]
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        day = received.date()
        handle = await open_complaint(temporal_env, task_queue, intake(policy.id, received), policy=policy)
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        due = day + timedelta(days=40)
        improvements = [
            ActionItem(id="urgent-damp", description="Triage damp as urgent", owner="repairs", due_on=due),
            ActionItem(id="plain-letters", description="Plain English letters", owner="repairs", due_on=due),
        ]
        before = await report_learning.learning(
            pool, policy_id=POLICY, start=day, end=day + timedelta(days=5)
        )
        state = await act(
            handle,
            "respond",
            cmd.Respond(
                actor=INVESTIGATOR,
                outcome=Outcome.UPHELD,
                findings="The damp was left.",
                learning=Learning(root_cause="delay", lessons="Damp waited.", improvements=improvements),
            ),
        )
        kept = await pool.fetch(
            "SELECT action_id, kind, received_on, completed_on, description FROM improvement_actions"
            " WHERE reference = $1 ORDER BY action_id",
            state.reference,
        )
        assert [dict(row) for row in kept] == [
            {
                "action_id": "plain-letters",
                "kind": "improvement",
                "received_on": day,
                "completed_on": None,
                "description": "Plain English letters",
            },
            {
                "action_id": "urgent-damp",
                "kind": "improvement",
                "received_on": day,
                "completed_on": None,
                "description": "Triage damp as urgent",
            },
        ]
        await act(handle, "complete_action", cmd.CompleteAction(actor=OFFICER, action_id="urgent-damp"))
        after = await report_learning.learning(pool, policy_id=POLICY, start=day, end=day + timedelta(days=5))
    assert after["improvements_promised"] - before["improvements_promised"] == 2
    assert after["improvements_made"] - before["improvements_made"] == 1
    assert {
        "completed_on": day.isoformat(),
        "service_area": state.intake.service_area,
        "description": "Triage damp as urgent",
    } in after["improvements"]
