"""The casework of issue 16 through the real workflow (time-skipping test server, real worker, real database):
progress updates on their cadence, learning recorded with the response and counted in the report facts,
the letter when an improvement is done, and a contact restriction's review alert and lift.

Each complaint is received at 09:00 London on a quiet Monday (no bank holiday for 60 days): expected dates
are weekday arithmetic (`s.day(n)` is n working days after that Monday).
"""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.models import ActionItem, ActionKind, Learning, Outcome, ResidentChannel
from domain.policy import Policy
from tests.factories import INVESTIGATOR, MANAGER, OFFICER, act
from tests.scenario_helpers import at as london
from tests.scenario_helpers import context, detail, scenario, to_minute


async def test_council_003_keeps_the_resident_informed_and_records_what_it_learned(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    async with scenario(temporal_env, pool, policies, task_queue, "council-003") as s:
        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await act(s.handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        await s.move_to(s.day(3), 10)  # Thursday: more time is needed
        await act(
            s.handle,
            "extend",
            cmd.Extend(actor=INVESTIGATOR, new_respond_by=s.day(25), reason="Waiting for the contractor."),
        )
        (extension,) = await s.sent("extension", "complainant")
        assert context(extension)["updates_every_working_days"] == 10

        # "we will keep you informed of progress": a letter at 8 in the morning, 10 working days on.
        await s.move_to(s.day(13), 12)
        (update,) = await s.events("progress_update")
        assert to_minute(update["at"]) == london(s.day(13), 8)  # timers fire just after their instant
        assert detail(update)["by"] == "letter"
        (letter,) = await s.sent("progress_update", "complainant")
        assert context(letter)["respond_by"] == s.day(25).isoformat()

        await s.move_to(s.day(20), 10)
        learning = Learning(
            root_cause="contractor",
            lessons="The contractor's survey was booked without a date.",
            improvements=[
                ActionItem(
                    id="survey-dates",
                    description="Book every contractor survey with a date",
                    owner="repairs-manager",
                    due_on=s.day(30),
                )
            ],
        )
        state = await act(
            s.handle,
            "respond",
            cmd.Respond(
                actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Late survey.", learning=learning
            ),
        )
        assert state.current.root_cause == learning.root_cause
        assert [(action.id, action.kind) for action in state.actions] == [
            ("survey-dates", ActionKind.IMPROVEMENT)
        ]
        (response,) = await s.sent("response", "complainant")
        assert (
            context(response)["improvements"][0]["description"] == "Book every contractor survey with a date"
        )
        facts = await pool.fetchrow(
            "SELECT root_cause, actions_promised FROM complaint_stages WHERE reference = $1 AND stage = 1",
            s.reference,
        )
        assert facts is not None and tuple(facts) == ("contractor", 1)

        # No progress update once the response is sent (the next one would have been on day 23).
        await s.move_to(s.day(24), 10)
        assert len(await s.events("progress_update")) == 1

        await act(s.handle, "complete_action", cmd.CompleteAction(actor=OFFICER, action_id="survey-dates"))
        (done,) = await s.sent("action_completed", "complainant")
        assert context(done)["kind"] == "improvement"
        # The workflow tracks the action without its words (issue 23): the letter and the case record
        # have them, from the response's event.
        assert context(done)["description"] == "Book every contractor survey with a date"
        row = await pool.fetchval("SELECT state->'actions' FROM complaints WHERE reference = $1", s.reference)
        assert [(a["id"], a["description"], a["completed_by"]) for a in row] == [
            ("survey-dates", "Book every contractor survey with a date", OFFICER.id)
        ]


async def test_a_restriction_is_reviewed_on_its_date_and_only_a_manager_lifts_it(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    async with scenario(temporal_env, pool, policies, task_queue, "westminster") as s:
        await act(s.handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await act(
            s.handle,
            "restrict_contact",
            cmd.RestrictContact(
                actor=MANAGER,
                reason="Repeated abusive calls.",
                until=s.day(30),
                review_on=s.day(10),
                channels=[ResidentChannel.MESSAGES],
            ),
        )
        await s.move_to(s.day(10), 12)
        (review,) = await s.events("restriction_review")
        assert to_minute(review["at"]) == london(s.day(10), 8)
        alerts = [
            row for row in await s.sent("overdue_alert", "manager") if context(row)["what"] != "response"
        ]
        assert [context(row)["what"] for row in alerts] == ["contact_restriction_review"]
        assert context(alerts[0])["due"] == s.day(10).isoformat()

        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(
                s.handle, "lift_contact_restriction", cmd.LiftContactRestriction(actor=OFFICER, reason="x")
            )
        assert "cannot lift contact restriction" in str(refused.value.cause)
        state = await act(
            s.handle,
            "lift_contact_restriction",
            cmd.LiftContactRestriction(actor=MANAGER, reason="Reviewed."),
        )
        assert state.contact_restriction is not None and state.contact_restriction["lifted_by"] == MANAGER.id
        (lifted,) = await s.events("lift_contact_restriction")
        assert lifted["actor_id"] == MANAGER.id
        assert await s.sent("contact_restriction_lifted", "complainant")
