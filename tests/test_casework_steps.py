"""The casework of issue 16 as rules and steps (no Temporal): learning with the response, keeping the
complainant informed, telling them when a promised action is done, and contact restrictions with a review.

Dates worked by hand (England and Wales): 1 March 2027 is a Monday; Good Friday is 26 March and Easter
Monday 29 March 2027; the clocks go forward on 28 March (8 in the morning BST is 07:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from pydantic import ValidationError

from domain import commands as cmd
from domain import timers
from domain.actions import ACTIONS
from domain.models import ActionItem, ActionKind, Learning, Outcome, Remedy, RemedyKind, ResidentChannel
from domain.policy import DEFAULT_ROOT_CAUSES, Policy
from tests.direct_effects import fire_next, new_complaint, run
from tests.factories import INVESTIGATOR, LONDON, MANAGER, OFFICER, intake

MONDAY = date(2027, 3, 1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def improvement(action_id: str = "triage-damp", due_on: date = date(2027, 6, 1)) -> ActionItem:
    return ActionItem(
        id=action_id, description="Triage every damp report as urgent", owner="repairs", due_on=due_on
    )


# ------------------------------------------------------------------------------------------- learning


async def test_a_response_records_its_learning_and_tracks_the_improvements(
    policies: dict[str, Policy],
) -> None:
    policy = policies["bexley"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    effects.clock = at(date(2027, 3, 10))
    learning = Learning(
        root_cause="process-not-followed",
        lessons="Damp reports were booked as routine repairs.",
        improvements=[improvement()],
    )
    respond = cmd.Respond(
        actor=INVESTIGATOR,
        outcome=Outcome.UPHELD,
        findings="The damp report was not triaged.",
        remedies=[
            Remedy(kind=RemedyKind.POLICY_REVIEW, description="We will review the repairs triage policy.")
        ],
        actions=[
            ActionItem(id="fix-damp", description="Treat the damp", owner="repairs", due_on=date(2027, 4, 1))
        ],
        learning=learning,
    )
    await run(ctx, "respond", respond)
    state = ctx.state
    # The workflow keeps the root cause; the lessons are on the event (issue 23).
    assert state.current.root_cause == learning.root_cause
    assert effects.trail[-1].detail["lessons"] == learning.lessons
    assert [(action.id, action.kind) for action in state.actions] == [
        ("fix-damp", ActionKind.REMEDY),
        ("triage-damp", ActionKind.IMPROVEMENT),
    ]
    # The improvement has its own due instant, so it is chased like any promised action.
    assert state.actions[1].due_at is not None and state.actions[1].due_at.date() == date(2027, 6, 1)
    assert effects.trail[-1].detail["root_cause"] == "process-not-followed"
    letter = effects.sent[-1]
    assert letter.template == "response"
    assert letter.context["improvements"] == [
        {"description": "Triage every damp report as urgent", "due_on": date(2027, 6, 1)}
    ]
    # The lessons are the council's own notes: on the case, not in the resident's letter.
    assert "lessons" not in letter.context
    assert state.current.remedies[0].kind is RemedyKind.POLICY_REVIEW


async def test_a_root_cause_must_be_one_of_the_policys(policies: dict[str, Policy]) -> None:
    policy = policies["bexley"]
    assert policy.root_causes == DEFAULT_ROOT_CAUSES  # a council that names none gets the default list
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    unknown = cmd.Respond(
        actor=INVESTIGATOR,
        outcome=Outcome.UPHELD,
        findings="x",
        learning=Learning(root_cause="bad-luck"),
    )
    refusal = ACTIONS["respond"].refusal(ctx.state, policy, unknown, effects.now())
    assert refusal is not None and "learning.root_cause: 'bad-luck'" in refusal.message
    assert "process-not-followed" in refusal.message
    clash = cmd.Respond(
        actor=INVESTIGATOR,
        outcome=Outcome.UPHELD,
        findings="x",
        actions=[improvement("same")],
        learning=Learning(root_cause="delay", improvements=[improvement("same")]),
    )
    refusal = ACTIONS["respond"].refusal(ctx.state, policy, clash, effects.now())
    assert refusal is not None and "unique" in refusal.message


def test_a_policy_may_name_its_own_root_causes(policies: dict[str, Policy]) -> None:
    data = policies["bexley"].model_dump(mode="json", by_alias=True)
    own = Policy.model_validate(data | {"root_causes": ["missed-collection", "crew-conduct"]})
    assert own.root_causes == ("missed-collection", "crew-conduct")
    with pytest.raises(ValidationError, match="root_causes"):
        Policy.model_validate(data | {"root_causes": ["Not A Code"]})


# --------------------------------------------------------------------------- completing promised actions


async def test_completing_a_promised_action_tells_the_complainant(policies: dict[str, Policy]) -> None:
    policy = policies["bexley"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    respond = cmd.Respond(
        actor=INVESTIGATOR,
        outcome=Outcome.UPHELD,
        findings="x",
        learning=Learning(root_cause="delay", improvements=[improvement()]),
    )
    await run(ctx, "respond", respond)
    effects.clock = at(date(2027, 5, 20))
    await run(ctx, "complete_action", cmd.CompleteAction(actor=OFFICER, action_id="triage-damp"))
    letter = effects.sent[-1]
    assert letter.template == "action_completed" and letter.audience == "complainant"
    # The letter names the action; its words are filled in from the case record when it is written.
    assert letter.context["action_id"] == "triage-damp"
    assert letter.context["kind"] == "improvement"


# -------------------------------------------------------------------------- keeping the resident informed


async def test_council_003_sends_a_progress_letter_every_10_working_days_once_extended(
    policies: dict[str, Policy],
) -> None:
    """council-003: "Sometimes we may need longer but we will keep you informed of progress"."""
    policy = policies["council-003"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    assert ctx.state.current.next_update is None  # on time so far: nothing promised yet
    assert "updates_every_working_days" not in effects.sent[-1].context
    effects.clock = at(date(2027, 3, 17))
    await run(
        ctx,
        "extend",
        cmd.Extend(
            actor=INVESTIGATOR, new_respond_by=date(2027, 4, 14), reason="Waiting for the contractor."
        ),
    )
    assert effects.sent[-1].context["updates_every_working_days"] == 10
    # 10 working days from Wednesday 17 March, over Good Friday and Easter Monday: Friday 2 April.
    assert ctx.state.current.next_update is not None and ctx.state.current.next_update.on == date(2027, 4, 2)
    assert ctx.state.current.next_update.at == datetime(
        2027, 4, 2, 6, 59, 59, 999999, tzinfo=UTC
    )  # 07:59:59 BST
    assert await fire_next(ctx) == "progress_update"
    letter = effects.sent[-1]
    assert letter.template == "progress_update" and letter.audience == "complainant"
    assert letter.context["respond_by"] == date(2027, 4, 14)
    # And again 10 working days later, until the response.
    assert ctx.state.current.next_update is not None and ctx.state.current.next_update.on == date(2027, 4, 16)
    effects.clock = at(date(2027, 4, 14))
    await run(ctx, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="x"))
    assert ctx.state.current.next_update is None
    assert all(timer.kind != "progress_update" for timer in timers.deadline_timers(ctx.state, policy))


async def test_a_cadence_agreed_at_extension_reminds_the_officer(policies: dict[str, Policy]) -> None:
    """Barking and Dagenham: "If we need more time, we will explain this in writing and agree how often we
    will update you"."""
    policy = policies["barking-dagenham"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await run(ctx, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    effects.clock = at(date(2027, 3, 10))
    extend = cmd.Extend(
        actor=INVESTIGATOR,
        new_respond_by=date(2027, 3, 24),
        reason="The surveyor's report is due next week.",
        update_every_working_days=3,
    )
    await run(ctx, "extend", extend)
    assert effects.sent[-1].context["updates_every_working_days"] == 3
    assert ctx.state.current.next_update is not None and ctx.state.current.next_update.on == date(
        2027, 3, 15
    )  # Wed + 3 working days
    assert await fire_next(ctx) == "progress_update"
    notice = effects.sent[-1]
    assert notice.template == "progress_update_due" and notice.recipient == INVESTIGATOR.id
    assert notice.context["every"] == 3


async def test_a_request_for_information_pauses_the_updates_and_the_answer_restarts_them(
    policies: dict[str, Policy],
) -> None:
    policy = policies["bexley"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER, update_every_working_days=5))
    assert effects.sent[-1].context["updates_every_working_days"] == 5
    assert ctx.state.current.next_update is not None and ctx.state.current.next_update.on == date(2027, 3, 8)
    effects.clock = at(date(2027, 3, 3))
    await run(
        ctx, "request_information", cmd.RequestInformation(actor=INVESTIGATOR, request="Photos, please.")
    )
    assert ctx.state.current.next_update is None
    effects.clock = at(date(2027, 3, 9))
    await run(ctx, "information_received", cmd.InformationReceived(actor=INVESTIGATOR, summary="Photos."))
    assert ctx.state.current.next_update is not None and ctx.state.current.next_update.on == date(2027, 3, 16)


async def test_no_cadence_means_no_progress_timer(policies: dict[str, Policy]) -> None:
    policy = policies["bexley"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await run(ctx, "extend", cmd.Extend(actor=INVESTIGATOR, new_respond_by=date(2027, 4, 6), reason="x"))
    assert ctx.state.current.next_update is None


# ---------------------------------------------------------------------------------- contact restrictions


async def test_a_restriction_is_reviewed_by_a_manager_and_lifted_by_one(policies: dict[str, Policy]) -> None:
    policy = policies["westminster"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    restrict = cmd.RestrictContact(
        actor=MANAGER,
        reason="Repeated abusive messages to the team.",
        until=date(2027, 9, 30),
        review_on=date(2027, 6, 1),
        channels=[ResidentChannel.MESSAGES, ResidentChannel.NEW_COMPLAINTS],
    )
    await run(ctx, "restrict_contact", restrict)
    restriction = ctx.state.contact_restriction
    assert restriction is not None and restriction["channels"] == ["messages", "new_complaints"]
    assert effects.sent[-1].context["channels"] == ["messages", "new_complaints"]
    # The review falls due at 8 in the morning of 1 June (BST): the manager is alerted.
    review = timers.restriction_review_at(ctx.state)
    assert review == datetime(2027, 6, 1, 6, 59, 59, 999999, tzinfo=UTC)
    effects.clock = at(date(2027, 3, 2))
    await run(ctx, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="x"))
    while (kind := await fire_next(ctx)) != "restriction_review":
        assert kind != "end_of_life", "the complaint ended before the restriction's review"
    alert = effects.sent[-1]
    assert alert.audience == "manager" and alert.context["what"] == "contact_restriction_review"
    assert alert.context["due"] == "2027-06-01" and alert.context["until"] == "2027-09-30"
    assert timers.restriction_review_at(ctx.state) is None  # alerted once

    # Only a manager lifts it, and only one that is in force.
    lift = cmd.LiftContactRestriction(actor=OFFICER, reason="Calm since March.")
    refusal = ACTIONS["lift_contact_restriction"].refusal(ctx.state, policy, lift, effects.now())
    assert refusal is not None and "cannot lift contact restriction" in refusal.message
    await run(ctx, "lift_contact_restriction", lift.model_copy(update={"actor": MANAGER}))
    assert (
        ctx.state.contact_restriction is not None and ctx.state.contact_restriction["lifted_by"] == MANAGER.id
    )
    assert effects.sent[-1].template == "contact_restriction_lifted"
    again = ACTIONS["lift_contact_restriction"].refusal(
        ctx.state, policy, lift.model_copy(update={"actor": MANAGER}), effects.now()
    )
    assert again is not None and "no contact restriction is in force" in again.message


async def test_a_progress_update_after_the_response_date_says_sorry(policies: dict[str, Policy]) -> None:
    policy = policies["council-003"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    effects.clock = at(date(2027, 3, 17))
    extend = cmd.Extend(actor=INVESTIGATOR, new_respond_by=date(2027, 4, 6), reason="Waiting.")
    await run(ctx, "extend", extend)
    kinds = [await fire_next(ctx) for _ in range(6)]
    # 2 April: an update; 6 April passes unanswered (reminders, overdue); 16 April: the next update, late.
    assert kinds.count("progress_update") == 2 and "response_overdue" in kinds
    updates = [letter for letter in effects.sent if letter.template == "progress_update"]
    assert [letter.context["late"] for letter in updates] == [False, True]


async def test_updates_carry_on_while_waiting_for_information_where_the_clock_runs(
    policies: dict[str, Policy],
) -> None:
    """Westminster does not stop the response clock for information: the complainant is still owed updates."""
    policy = policies["westminster"]
    assert not policy.clock_stops_for_information
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER, update_every_working_days=3))
    await run(ctx, "request_information", cmd.RequestInformation(actor=INVESTIGATOR, request="Photos."))
    assert ctx.state.current.next_update is not None and ctx.state.current.next_update.on == date(2027, 3, 4)
    assert await fire_next(ctx) == "progress_update"


async def test_a_closed_complaint_stays_open_while_its_restriction_lasts(policies: dict[str, Policy]) -> None:
    policy = policies["westminster"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(MONDAY)))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    restrict = cmd.RestrictContact(
        actor=MANAGER, reason="Abusive calls.", until=date(2028, 6, 30), review_on=date(2027, 4, 1)
    )
    await run(ctx, "restrict_contact", restrict)
    await run(ctx, "withdraw", cmd.Withdraw(actor=OFFICER, reason="Resolved."))
    kinds = []
    while (kind := await fire_next(ctx)) != "end_of_life":
        kinds.append(kind)
    # Reviewed on 1 April 2027, ended on 30 June 2028 (long after the usual months after closure): a manager
    # could lift it all along; only then does the complaint's workflow end.
    assert kinds == ["restriction_review", "restriction_ended"]
    assert effects.now() >= datetime(2028, 6, 30, tzinfo=UTC)


def test_a_restriction_closes_at_least_one_channel() -> None:
    with pytest.raises(ValidationError, match="channels"):
        cmd.RestrictContact(
            actor=MANAGER, reason="x", until=date(2027, 6, 30), review_on=date(2027, 3, 31), channels=[]
        )
