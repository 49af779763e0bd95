"""The seed rules through the real workflow (time-skipping) and the API: councils of every UK nation from a
policy file alone, ombudsman referrals long after closure, the time limit and representatives at intake."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.temporal import workflow_id
from domain import commands as cmd
from domain import deadlines
from domain.models import Outcome, Status
from domain.policy import Policy
from tests.api_helpers import api, assert_problem, bearer, complaint_body  # noqa: F401 (fixture)
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
)
from tests.test_workflow_lifetime import _when_opened


@pytest.mark.parametrize("policy_id", ["scotland-model", "wales-model", "northern-ireland-model"])
async def test_a_council_of_each_nation_runs_end_to_end_from_its_file_alone(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    policies: dict[str, Policy],
    task_queue: str,
    policy_id: str,
) -> None:
    policy = policies[policy_id]
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(temporal_env, task_queue, intake(policy_id, received), policy=policy)
        planned = deadlines.plan_stage(policy, 1, received)
        state = await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        assert state.current.respond_by == planned.respond_by
        await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        state = await act(
            handle,
            "respond",
            cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault"),
        )
        assert state.status is Status.RESPONDED
        await temporal_env.sleep(timedelta(days=1))
        state = await act(handle, "request_escalation", cmd.RequestEscalation(actor=RESIDENT))
        stage_2 = deadlines.plan_stage(policy, 2, state.current.received_at)
        assert state.current.plan.acknowledge.on == stage_2.acknowledge_by
        await act(handle, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
        state = await act(
            handle, "respond", cmd.Respond(actor=REVIEWER, outcome=Outcome.UPHELD, findings="Upheld")
        )
        assert state.status is Status.CLOSED
        letter = await pool.fetchval(
            "SELECT context->>'ombudsman' FROM notifications"
            " WHERE reference = $1 AND template = 'stage2_response'",
            state.reference,
        )
        assert letter == policy.ombudsman.signposting


async def test_a_referral_months_after_closure_is_still_recorded(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """ "You have the right to ask the Local Government and Social Care Ombudsman to consider your complaint"
    (Bexley): the LGSCO takes complaints within 12 months, so the case stays open for the referral and the
    decision that long (it used to end 90 days after closure)."""
    policy = policies["bexley"]
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(temporal_env, task_queue, intake("bexley", received), policy=policy)
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await act(
            handle,
            "decline",
            cmd.Decline(actor=OFFICER, exclusion_code="policy-or-legislation", reason="Policy"),
        )
        await temporal_env.sleep(timedelta(days=200))
        state = await act(
            handle,
            "refer_to_ombudsman",
            cmd.ReferToOmbudsman(actor=OFFICER, ombudsman_reference="LG-27-0042"),
        )
        assert state.ombudsman["body"] == "lgsco" and state.ombudsman["reference"] == "LG-27-0042"
        await temporal_env.sleep(timedelta(days=60))
        state = await act(
            handle,
            "record_ombudsman_decision",
            cmd.RecordOmbudsmanDecision(actor=MANAGER, determination="no_fault", decision="No fault"),
        )
        assert state.ombudsman["determination"] == "no_fault" and "decision" not in state.ombudsman
        # The record ends once the ombudsman's time limit has passed since the last event.
        final = await handle.result()
        assert final.ombudsman["determination"] == "no_fault"


async def test_intake_applies_the_time_limit_and_the_representative_rules(
    api: tuple[httpx.AsyncClient, Settings],  # noqa: F811
) -> None:
    client, settings = api
    officer = bearer("olivia.officer", settings)
    received = datetime.now(UTC) - timedelta(days=1)
    old = (received - timedelta(days=400)).date().isoformat()
    body = complaint_body(received_at=received.isoformat(), matter_arose_on=old)
    refused = await client.post("/api/complaints", json=body, headers=officer)
    assert_problem(refused, 422, "out_of_time_reason")
    accepted = await client.post(
        "/api/complaints", json=body | {"out_of_time_reason": "In hospital for a year"}, headers=officer
    )
    assert accepted.status_code == 201, accepted.text
    reference = accepted.json()["reference"]
    read = await client.get(f"/api/complaints/{reference}", headers=officer)
    receive = read.json()["history"][0]
    assert receive["detail"]["accepted_out_of_time"] == "In hospital for a year"
    assert receive["detail"]["matter_arose_on"] == old

    councillor = {"name": "Cllr Jones", "kind": "councillor", "consent_recorded": True}
    barking = complaint_body(policy_id="barking-dagenham", representative=councillor)
    assert_problem(await client.post("/api/complaints", json=barking, headers=officer), 422, "councillor")
    verbal = {"name": "Sam Carer", "kind": "carer", "consent_recorded": True, "consent_kind": "verbal"}
    barking = complaint_body(policy_id="barking-dagenham", representative=verbal)
    assert_problem(
        await client.post("/api/complaints", json=barking, headers=officer), 422, "written consent"
    )


async def test_the_planner_takes_how_the_response_was_sent(api: tuple[httpx.AsyncClient, Settings]) -> None:  # noqa: F811
    client, _ = api
    url = "/api/policies/bexley/deadlines?stage=1&received=2027-05-24&responded=2027-06-11"
    by_email = (await client.get(url)).json()
    by_post = (await client.get(url + "&response_sent_by=post")).json()
    assert by_email["escalation_request_by"] == "2027-07-09"
    assert (by_post["response_received_on"], by_post["escalation_request_by"]) == ("2027-06-15", "2027-07-13")
    assert_problem(await client.get(url + "&response_sent_by=pigeon"), 422)
    assert date.fromisoformat(by_post["escalation_request_by"]) > date.fromisoformat(
        by_email["escalation_request_by"]
    )


async def test_barking_and_dagenhams_review_is_by_someone_who_did_not_work_on_stage_1(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """ "Your review will be looked at by someone independent, who did not work on your Stage 1 complaint"
    (issue 24): the workflow remembers every member of staff who acted on Stage 1, so a manager who extended
    it cannot answer the review, though they were neither its assignee nor its responder."""
    policy = policies["barking-dagenham"]
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(temporal_env, task_queue, intake(policy.id, received), policy=policy)
        state = await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        later = state.current.respond_by + timedelta(days=1)
        await act(handle, "extend", cmd.Extend(actor=MANAGER, new_respond_by=later, reason="A site visit"))
        await act(
            handle,
            "respond",
            cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault"),
        )
        await temporal_env.sleep(timedelta(days=1))
        state = await act(handle, "request_escalation", cmd.RequestEscalation(actor=RESIDENT))
        assert set(state.stages[0].acted_by) == {OFFICER.id, MANAGER.id, INVESTIGATOR.id}
        assert state.stages[1].acted_by == []  # the resident asked: no member of staff acted on Stage 2 yet
        await act(handle, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(
                handle, "respond", cmd.Respond(actor=MANAGER, outcome=Outcome.UPHELD, findings="Upheld")
            )
        assert "did not work on the Stage 1 complaint" in str(refused.value.cause)
        state = await act(
            handle, "respond", cmd.Respond(actor=REVIEWER, outcome=Outcome.UPHELD, findings="Upheld")
        )
        assert state.status is Status.CLOSED and state.current.responded_by == REVIEWER.id


async def test_council_004_stops_correspondence_on_a_matter_already_addressed(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """ "no further correspondence and/or communication will be entered into until the expiration of the
    agreed time period" (council-004, issue 24): the restriction is recorded as stopping correspondence and
    the letter queued to the complainant says so, in the council's words."""
    policy = policies["council-004"]
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(temporal_env, task_queue, intake(policy.id, received), policy=policy)
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await act(
            handle,
            "respond",
            cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault"),
        )
        until = received.date() + timedelta(days=180)
        restriction = cmd.RestrictContact(
            actor=MANAGER,
            reason="Repeated complaints about the fence.",
            until=until,
            review_on=until - timedelta(days=90),
            stops_correspondence=True,
        )
        state = await act(handle, "restrict_contact", restriction)
        assert state.contact_restriction is not None and state.contact_restriction["stops_correspondence"]
        wording = await pool.fetchval(
            "SELECT context->>'stop_correspondence_wording' FROM notifications"
            " WHERE reference = $1 AND template = 'contact_restriction'",
            state.reference,
        )
        assert wording == policy.contact_restrictions.stop_correspondence_wording


async def test_a_linked_complaint_logged_later_keeps_the_day_it_was_raised(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, policies: dict[str, Policy], task_queue: str
) -> None:
    """An unrelated issue the resident raised on Monday afternoon and the officer opened as a linked complaint
    on Wednesday counts from Monday, as an escalation request logged later does (issue 24): Bexley's 2
    working days to acknowledge end on Wednesday, not Friday."""
    policy = policies["bexley"]
    async with running_worker(temporal_env, pool, policies, task_queue):
        received = await start_in_quiet_week(temporal_env)
        handle = await open_complaint(temporal_env, task_queue, intake(policy.id, received), policy=policy)
        await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await temporal_env.sleep(timedelta(days=2))  # Wednesday
        raised = received + timedelta(hours=6)  # Monday 15:00
        state = await act(
            handle,
            "open_linked_complaint",
            cmd.OpenLinkedComplaint(actor=OFFICER, summary="Also: the bins.", received_at=raised),
        )
        child = await _when_opened(temporal_env, workflow_id(state.related_complaints[0]))
        assert child.intake.received_at == raised
        assert child.current.plan.acknowledge.on == received.date() + timedelta(days=2)
