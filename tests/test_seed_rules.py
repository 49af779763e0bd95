"""Every seed's own rules, each with the sentence it enforces and hand-worked dates.

The dates are worked by hand from the calendar (England and Wales bank holidays): 11 June 2027 is a Friday;
2 March 2026 a Monday, with Good Friday on 3 April and Easter Monday on 6 April 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from domain import commands as cmd
from domain import deadlines
from domain.actions import ACTIONS
from domain.intake_rules import check_representative, check_time_limit
from domain.models import Outcome, Representative, Role, Status
from domain.policy import Ombudsman, Policy, SentBy
from tests.direct_effects import new_complaint, run
from tests.factories import INVESTIGATOR, LONDON, MANAGER, OFFICER, RESIDENT, REVIEWER, intake

FRIDAY = date(2027, 6, 11)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


# 1. "within 20 working days from receipt of the Stage 1 response" (Bexley); "within 28 days of getting your
#    Stage 1 response" (Barking and Dagenham): the window counts from when the resident got the response.
@pytest.mark.parametrize(
    ("policy_id", "sent_by", "received_on", "last_day"),
    [
        ("bexley", SentBy.EMAIL, FRIDAY, date(2027, 7, 9)),  # 20 working days from Friday 11 June
        ("bexley", SentBy.POST, date(2027, 6, 15), date(2027, 7, 13)),  # posted Friday, got it Tuesday
        ("barking-dagenham", SentBy.EMAIL, FRIDAY, date(2027, 7, 9)),  # 28 calendar days
        ("barking-dagenham", SentBy.POST, date(2027, 6, 15), date(2027, 7, 13)),
        ("barking-dagenham", SentBy.IN_PERSON, FRIDAY, date(2027, 7, 9)),
    ],
)
def test_escalation_window_counts_from_receipt_of_the_response(
    policies: dict[str, Policy], policy_id: str, sent_by: SentBy, received_on: date, last_day: date
) -> None:
    policy = policies[policy_id]
    assert deadlines.response_received_on(policy, FRIDAY, sent_by) == received_on
    assert deadlines.escalation_request_by(policy, 1, FRIDAY, sent_by) == last_day


async def test_a_posted_response_gives_the_resident_their_whole_window(policies: dict[str, Policy]) -> None:
    ctx, effects = await new_complaint(policies["bexley"], intake("bexley", at(date(2027, 5, 24))))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    effects.clock = at(FRIDAY, 16)
    response = cmd.Respond(
        actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault", sent_by=SentBy.POST
    )
    await run(ctx, "respond", response)
    window = ctx.state.current.escalation_request_by
    assert window is not None and window.on == date(2027, 7, 13)
    assert effects.trail[-1].detail["sent_by"] == SentBy.POST


# 2. The Complaint Handling Code, 6.12: "Residents must not be required to explain their reasons for
#    requesting a stage 2 consideration".
async def test_stage_2_can_be_asked_for_without_reasons(policies: dict[str, Policy]) -> None:
    policy = policies["complaint-handling-code"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(date(2027, 6, 7))))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await run(ctx, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Late"))
    effects.advance(timedelta(days=1))
    await run(ctx, "request_escalation", cmd.RequestEscalation(actor=RESIDENT))
    assert ctx.state.status is Status.ESCALATION_REQUESTED


def test_a_code_landlord_cannot_require_reasons(policies: dict[str, Policy]) -> None:
    data = policies["complaint-handling-code"].model_dump(by_alias=True)
    data["stages"][0]["escalation_reasons_required"] = True
    with pytest.raises(ValidationError, match="6.12"):
        Policy.model_validate(data)


# 3. A Stage 2 request that came by post and was logged later keeps its date of receipt.
async def test_a_stage_2_request_logged_late_keeps_the_day_it_arrived(policies: dict[str, Policy]) -> None:
    ctx, effects = await new_complaint(policies["bexley"], intake("bexley", at(date(2027, 5, 24))))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    effects.clock = at(FRIDAY)
    await run(
        ctx, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault")
    )
    # The letter arrived on Friday 9 July, the last day of the window; it was logged the next Tuesday.
    effects.clock = at(date(2027, 7, 13))
    arrived = at(date(2027, 7, 9), 11)
    refused = ACTIONS["request_escalation"].refusal(
        ctx.state,
        ctx.policy,
        cmd.RequestEscalation(actor=OFFICER, received_at=at(date(2027, 8, 1))),
        effects.now(),
    )
    assert refused is not None and "future" in refused.message
    await run(ctx, "request_escalation", cmd.RequestEscalation(actor=OFFICER, received_at=arrived))
    stage_2 = ctx.state.current
    assert effects.trail[-1].detail["late"] is False  # in time: no discretion needed
    assert stage_2.received_at == arrived
    assert stage_2.plan.acknowledge.on == date(2027, 7, 13)  # Bexley: 2 working days from Friday 9 July


# 4. A late acknowledgement buys no time where the response counts from acknowledgement (Barking and
#    Dagenham: "within 10 working days of the acknowledgement"; the Code): due 23 March, not 7 April. The date
#    planner (`complaints deadlines --acknowledged`, the policies API) tells an officer the same date.
async def test_a_late_acknowledgement_does_not_move_the_response_date(policies: dict[str, Policy]) -> None:
    policy = policies["barking-dagenham"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(date(2026, 3, 2))))
    assert ctx.state.current.plan.acknowledge.on == date(2026, 3, 9)
    effects.clock = at(date(2026, 3, 20))  # acknowledged 9 working days late
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    assert ctx.state.current.respond_by == date(2026, 3, 23)
    assert deadlines.plan_stage(policy, 1, date(2026, 3, 2), date(2026, 3, 20)).respond_by == date(
        2026, 3, 23
    )
    # Where a policy says a late acknowledgement moves it, 10 working days from 20 March over Easter: 7 April.
    moves = policy.model_copy(
        update={
            "stages": (policy.stages[0].model_copy(update={"late_acknowledgement_moves_response": True}),)
        }
    )
    assert deadlines.plan_stage(moves, 1, date(2026, 3, 2), date(2026, 3, 20)).respond_by == date(2026, 4, 7)


# 5. Exclusions: council-004's 12-month limit, legal proceedings and appeal routes; Bexley's statutory social
#    care procedures and "complaints about policies or legislation"; usable up to the response.
def test_every_time_limit_has_its_exclusion_and_the_seeds_grounds_are_there(
    policies: dict[str, Policy],
) -> None:
    for policy in policies.values():
        assert policy.exclusion("out-of-time") is not None, policy.id
    council_004 = policies["council-004"]
    assert all(council_004.exclusion(code) for code in ("legal-proceedings", "statutory-appeal"))
    bexley = policies["bexley"]
    assert all(bexley.exclusion(code) for code in ("social-care-statutory", "policy-or-legislation"))


async def test_a_ground_found_during_the_investigation_can_still_be_used(policies: dict[str, Policy]) -> None:
    ctx, _ = await new_complaint(policies["council-004"], intake("council-004", at(date(2027, 6, 7))))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    decline = cmd.Decline(
        actor=OFFICER, exclusion_code="legal-proceedings", reason="A claim was filed in May"
    )
    await run(ctx, "decline", decline)
    assert ctx.state.status is Status.DECLINED


# 6. The time limit at intake: "We cannot normally accept complaints made more than 12 months after the date
#    the matter occurred ... we will look at any complaints received after the 12-month time limit on an
#    individual basis" (Bexley).
def test_an_old_complaint_is_flagged_and_taken_on_only_with_a_reason(policies: dict[str, Policy]) -> None:
    bexley = policies["bexley"]
    received = datetime(2027, 6, 14, 9, tzinfo=UTC)
    assert check_time_limit(bexley, received, date(2026, 6, 14), None) is None  # exactly 12 months: in time
    problem = check_time_limit(bexley, received, date(2026, 6, 13), None)
    assert problem is not None and problem.startswith("out_of_time_reason:")
    assert check_time_limit(bexley, received, date(2026, 6, 13), "In hospital for months") is None
    assert "cannot be after" in (check_time_limit(bexley, received, date(2027, 7, 1), None) or "")


# 7. Representatives: "we will need written, signed permission from that person"; "A Member of Parliament or
#    Councillor cannot make a formal complaint on behalf of a constituent" (Barking and Dagenham, section 7).
def test_representatives_need_the_consent_and_standing_the_policy_asks_for(
    policies: dict[str, Policy],
) -> None:
    barking = policies["barking-dagenham"]
    written = Representative(name="Sam Carer", kind="carer", consent_recorded=True, consent_kind="written")
    assert check_representative(barking, written) is None
    verbal = written.model_copy(update={"consent_kind": "verbal"})
    assert "needs written consent" in (check_representative(barking, verbal) or "")
    councillor = written.model_copy(update={"kind": "councillor"})
    assert "does not accept a councillor" in (check_representative(barking, councillor) or "")
    # The SPSO model accepts consent given verbally and recorded.
    assert check_representative(policies["scotland-model"], verbal) is None


# 9. All UK ombudsmen: a Scottish, a Welsh and a Northern Irish council from a policy file alone.
def test_every_uk_ombudsman_and_nation(policies: dict[str, Policy]) -> None:
    expected = {"scotland-model": "spso", "wales-model": "psow", "northern-ireland-model": "nipso"}
    for policy_id, body in expected.items():
        assert policies[policy_id].ombudsman.body is Ombudsman(body)
    assert policies["northern-ireland-model"].ombudsman.tracked_months == 6
    assert policies["scotland-model"].stage(1).respond.amount == 5  # frontline resolution in 5 working days
    assert policies["scotland-model"].stage(2).acknowledge.amount == 3


# 10. Stage 2 is answered by a reviewer or a manager, checked by the workflow itself, not only the API.
async def test_the_workflow_itself_keeps_stage_2_for_reviewers(policies: dict[str, Policy]) -> None:
    ctx, effects = await new_complaint(policies["bexley"], intake("bexley", at(date(2027, 6, 7))))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await run(ctx, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Late"))
    effects.advance(timedelta(days=1))
    await run(ctx, "request_escalation", cmd.RequestEscalation(actor=RESIDENT))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
    other = INVESTIGATOR.model_copy(update={"id": "ines.investigator"})
    answer = cmd.Respond(actor=other, outcome=Outcome.UPHELD, findings="Upheld")
    refused = ACTIONS["respond"].refusal(ctx.state, ctx.policy, answer, effects.now())
    assert refused is not None and refused.message == "an investigator cannot respond at Stage 2"
    as_manager = answer.model_copy(update={"actor": MANAGER})
    assert ACTIONS["respond"].refusal(ctx.state, ctx.policy, as_manager, effects.now()) is None
    assert ACTIONS["respond"].allows(Role.REVIEWER, 2) and not ACTIONS["respond"].allows(Role.INVESTIGATOR, 2)
