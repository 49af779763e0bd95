"""The rules a third reading of the seeds found (issue 24), each with its seed sentence and hand-worked dates.

Calendar (England and Wales): Monday 2 March 2026; Good Friday 3 April and Easter Monday 6 April 2026. Friday
28 May 2027, with the spring bank holiday on Monday 31 May 2027; Friday 11 June 2027. British Summer Time runs
from 28 March to 31 October 2027, so 23:30 UTC on 1 July 2027 is 00:30 on 2 July in London.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cli.main import main
from domain import commands as cmd
from domain import deadlines
from domain.actions import ACTIONS
from domain.intake_rules import check_time_limit, out_of_time
from domain.models import Channel, Outcome, Status
from domain.policy import EscalationNeed, Independence, Policy
from domain.steps import Ctx
from notifications.render import render
from tests.direct_effects import DirectEffects, new_complaint, run
from tests.factories import INVESTIGATOR, LONDON, MANAGER, OFFICER, RESIDENT, REVIEWER, intake
from tests.shipped_policies import POLICIES_DIR


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def _refusal(ctx: Ctx, name: str, command: cmd.Command) -> str | None:
    refused = ACTIONS[name].refusal(ctx.state, ctx.policy, command, ctx.effects.now())
    return None if refused is None else refused.message


def _with_stage(policy: Policy, number: int, **changes: Any) -> Policy:
    """The policy validated again with one stage's fields changed (a file an author might write)."""
    data = policy.model_dump(by_alias=True)
    data["stages"][number - 1].update(changes)
    return Policy.model_validate(data)


# 1. One rule for the complaint and the date planner after a late acknowledgement (Barking and Dagenham: "a
#    full response within 10 working days after we acknowledge your complaint"). Received Monday 2 March
#    2026: acknowledgement due Monday 9 March; acknowledged late on Friday 20 March, the response is still due
#    10 working days after 9 March: Monday 23 March (not Tuesday 7 April, 10 working days after 20 March over
#    Easter).
def test_the_planner_gives_the_complaints_date_after_a_late_acknowledgement(
    policies: dict[str, Policy], capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policies["barking-dagenham"]
    late = deadlines.plan_stage(policy, 1, date(2026, 3, 2), at(date(2026, 3, 20)))
    assert (late.acknowledge_by, late.respond_by) == (date(2026, 3, 9), date(2026, 3, 23))
    # Acknowledged early (Tuesday 3 March), the response counts from then: 10 working days, Tuesday 17 March.
    assert deadlines.plan_stage(policy, 1, date(2026, 3, 2), date(2026, 3, 3)).respond_by == date(2026, 3, 17)
    assert main(["deadlines", "barking-dagenham", "2026-03-02", "--acknowledged", "2026-03-20"]) == 0
    assert "respond_by: 2026-03-23" in capsys.readouterr().out.splitlines()


async def test_a_recalculation_after_a_late_acknowledgement_keeps_the_date(
    policies: dict[str, Policy],
) -> None:
    policy = policies["barking-dagenham"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(date(2026, 3, 2))))
    effects.clock = at(date(2026, 3, 20))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await run(ctx, "recalculate_deadlines", cmd.RecalculateDeadlines(actor=MANAGER, reason="New closure day"))
    assert ctx.state.current.respond_by == date(2026, 3, 23)


# 2. council-003: "They will check if it is eligible and contact you within five days" (the same page says
#    "working days" for its other windows): five calendar days from the local day of receipt.
@pytest.mark.parametrize(
    ("received", "acknowledge_by"),
    [
        (at(date(2027, 6, 11)), date(2027, 6, 16)),  # Friday 11 June + 5 days: Wednesday 16 June
        (at(date(2027, 6, 12)), date(2027, 6, 17)),  # a Saturday counts from the Saturday: Thursday 17 June
        (at(date(2027, 5, 28)), date(2027, 6, 2)),  # over the spring bank holiday: Wednesday 2 June
        (datetime(2027, 5, 28, 23, 30, tzinfo=UTC), date(2027, 6, 3)),  # 00:30 BST on Saturday 29 May
        (at(date(2027, 6, 7)), date(2027, 6, 12)),  # a Saturday deadline is not moved
    ],
)
def test_council_003_contacts_the_complainant_within_five_calendar_days(
    policies: dict[str, Policy], received: datetime, acknowledge_by: date
) -> None:
    plan = deadlines.plan_stage(policies["council-003"], 1, received)
    assert plan.acknowledge_by == acknowledge_by


def test_council_003_responds_in_working_days_still(policies: dict[str, Policy]) -> None:
    # "within 20 working days": from Friday 11 June 2027, Friday 9 July (no bank holiday between).
    assert deadlines.plan_stage(policies["council-003"], 1, at(date(2027, 6, 11))).respond_by == date(
        2027, 7, 9
    )
    # Working days would have given Monday 7 June for a receipt on Friday 28 May (31 May a bank holiday).
    working = _with_stage(policies["council-003"], 1, acknowledge={"amount": 5, "unit": "working_days"})
    assert deadlines.plan_stage(working, 1, at(date(2027, 5, 28))).acknowledge_by == date(2027, 6, 7)


def test_only_working_or_calendar_days_acknowledge_and_only_working_days_respond(
    policies: dict[str, Policy],
) -> None:
    policy = policies["council-003"]
    with pytest.raises(ValidationError, match="acknowledge windows must be in working_days or calendar_days"):
        _with_stage(policy, 1, acknowledge={"amount": 1, "unit": "calendar_months"})
    with pytest.raises(ValidationError, match="respond windows must be in working_days"):
        _with_stage(policy, 1, respond={"amount": 28, "unit": "calendar_days"})


# 3. council-004: "repeated complaints on the same or related matters that have already been addressed
#    through the corporate complaints process, will not be considered again within a time period ... no
#    further correspondence and/or communication will be entered into until the expiration of the agreed time
#    period".
async def test_council_004_declines_a_repeat_made_by_phone(policies: dict[str, Policy]) -> None:
    policy = policies["council-004"]
    repeat = intake(policy.id, at(date(2027, 6, 11)), channel=Channel.PHONE)
    ctx, effects = await new_complaint(policy, repeat)
    decline = cmd.Decline(actor=OFFICER, exclusion_code="already-addressed", reason="Answered at Stage Two")
    await run(ctx, "decline", decline)
    assert ctx.state.status is Status.DECLINED
    letter = effects.sent[-1]
    assert letter.template == "decline"
    assert "will not be considered again" in letter.context["signposting"]


async def _responded(policy: Policy) -> tuple[Ctx, DirectEffects]:
    ctx, effects = await new_complaint(policy, intake(policy.id, at(date(2027, 6, 7))))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await run(
        ctx, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault")
    )
    return ctx, effects


def _stop(until: date = date(2027, 12, 31)) -> cmd.RestrictContact:
    return cmd.RestrictContact(
        actor=MANAGER,
        reason="Repeated complaints about the same matter.",
        until=until,
        review_on=date(2027, 9, 30),
        stops_correspondence=True,
    )


async def test_council_004_restriction_stops_correspondence_and_says_so(policies: dict[str, Policy]) -> None:
    policy = policies["council-004"]
    ctx, effects = await _responded(policy)
    await run(ctx, "restrict_contact", _stop())
    assert ctx.state.contact_restriction is not None
    assert ctx.state.contact_restriction["stops_correspondence"] is True
    letter = effects.sent[-1]
    text = render(letter.template, letter.context, policy).text
    # The council's own words, and not the opposite promise every other restriction letter makes.
    assert "no further correspondence and/or communication will be entered into" in " ".join(text.split())
    assert "we will still reply to you" not in text
    # New information on the matter reaches staff with the stop: no reply is due until Friday 31 December.
    effects.clock = at(date(2027, 8, 2))
    await run(ctx, "add_information", cmd.AddInformation(actor=RESIDENT, summary="Again about the fence."))
    notice = effects.sent[-1]
    assert notice.context["correspondence_stopped_until"] == "2027-12-31"
    assert "no reply is due before then" in render(notice.template, notice.context, policy).text
    # Lifted, the stop ends with it.
    await run(ctx, "lift_contact_restriction", cmd.LiftContactRestriction(actor=MANAGER, reason="Reviewed."))
    await run(ctx, "add_information", cmd.AddInformation(actor=RESIDENT, summary="Thank you."))
    assert "correspondence_stopped_until" not in effects.sent[-1].context


async def test_the_default_wording_says_exactly_what_stops(policies: dict[str, Policy]) -> None:
    data = policies["council-004"].model_dump(by_alias=True)
    data["contact_restrictions"]["stop_correspondence_wording"] = ""
    policy = Policy.model_validate(data)
    ctx, effects = await _responded(policy)
    await run(ctx, "restrict_contact", _stop())
    text = " ".join(render("contact_restriction", effects.sent[-1].context, policy).text.split())
    assert "Until Friday 31 December 2027 we will not consider again complaints about the same" in text
    assert "we will not reply to any further letters, e-mails, calls or messages about it" in text


async def test_a_restriction_stops_correspondence_only_where_the_policy_says_and_after_a_response(
    policies: dict[str, Policy],
) -> None:
    bexley, _ = await _responded(policies["bexley"])
    refused = _refusal(bexley, "restrict_contact", _stop())
    assert refused is not None and "does not provide for stopping correspondence" in refused
    policy = policies["council-004"]
    open_complaint, _ = await new_complaint(policy, intake(policy.id, at(date(2027, 6, 7))))
    refused = _refusal(open_complaint, "restrict_contact", _stop())
    assert refused is not None and "only a matter already addressed" in refused
    # Stage 1 answered but a Stage 2 asked for and still owed: the matter is not yet addressed.
    escalated, _ = await _responded(policy)
    await run(
        escalated,
        "request_escalation",
        cmd.RequestEscalation(
            actor=RESIDENT, reasons="The fence was never inspected.", outcome_wanted="A visit"
        ),
    )
    refused = _refusal(escalated, "restrict_contact", _stop())
    assert refused is not None and "only a matter already addressed" in refused
    # Without the stop, the letter keeps its promise to reply.
    ctx, effects = await _responded(bexley.policy)
    plain = _stop().model_copy(update={"stops_correspondence": False})
    await run(ctx, "restrict_contact", plain)
    assert (
        "we will still reply to you"
        in render("contact_restriction", effects.sent[-1].context, ctx.policy).text
    )


# 4. Barking and Dagenham: "Your review will be looked at by someone independent, who did not work on your
#    Stage 1 complaint." Anyone who acted on Stage 1 is excluded; a policy may keep the narrower rule.
async def _at_stage_2(policy: Policy) -> tuple[Ctx, DirectEffects]:
    ctx, effects = await new_complaint(policy, intake(policy.id, at(date(2027, 6, 7))))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await run(ctx, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    # A reviewer asks for information at Stage 1; a manager extends it.
    await run(
        ctx, "request_information", cmd.RequestInformation(actor=REVIEWER, request="The dates, please.")
    )
    await run(ctx, "information_received", cmd.InformationReceived(actor=OFFICER, summary="Dates sent."))
    extended = ctx.state.current.respond_by + timedelta(days=3)
    await run(ctx, "extend", cmd.Extend(actor=MANAGER, new_respond_by=extended, reason="A site visit"))
    await run(
        ctx, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault")
    )
    effects.advance(timedelta(days=1))
    await run(
        ctx, "request_escalation", cmd.RequestEscalation(actor=RESIDENT, reasons="Wrong", outcome_wanted="X")
    )
    return ctx, effects


async def test_nobody_who_worked_on_stage_1_answers_barking_and_dagenhams_review(
    policies: dict[str, Policy],
) -> None:
    policy = policies["barking-dagenham"]
    assert policy.stage(2).independent_of is Independence.ANYONE_WHO_ACTED_ON_STAGE_1
    ctx, _ = await _at_stage_2(policy)
    assert set(ctx.state.stage_state(1).acted_by) == {OFFICER.id, INVESTIGATOR.id, REVIEWER.id, MANAGER.id}  # type: ignore[union-attr]
    other = REVIEWER.model_copy(update={"id": "rob.reviewer"})
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=other))
    for person in (REVIEWER, MANAGER):
        refused = _refusal(ctx, "respond", cmd.Respond(actor=person, outcome=Outcome.UPHELD, findings="Yes"))
        assert refused is not None and "did not work on the Stage 1 complaint" in refused
        assigned = cmd.Assign(actor=OFFICER, assignee=person.id, assignee_role=person.role)
        assert "did not work on the Stage 1 complaint" in (_refusal(ctx, "assign", assigned) or "")
    await run(ctx, "respond", cmd.Respond(actor=other, outcome=Outcome.UPHELD, findings="Upheld"))
    assert ctx.state.status is Status.CLOSED


async def test_a_policy_may_keep_the_narrower_rule(policies: dict[str, Policy]) -> None:
    policy = policies["bexley"]
    assert policy.stage(2).independent_of is Independence.STAGE_1_HANDLERS
    ctx, _ = await _at_stage_2(policy)
    # The manager who extended Stage 1 was not its assignee or responder: the narrow rule lets them answer.
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
    await run(ctx, "respond", cmd.Respond(actor=MANAGER, outcome=Outcome.UPHELD, findings="Upheld"))
    assert ctx.state.status is Status.CLOSED


def test_independence_belongs_on_stage_2(policies: dict[str, Policy]) -> None:
    with pytest.raises(ValidationError, match="independent_of belongs on Stage 2"):
        _with_stage(policies["barking-dagenham"], 1, independent_of="anyone_who_acted_on_stage_1")


# 5. council-004 Stage Two: "we need to know: what part of the complaint they felt was not handled well at
#    Stage One, or; what they disagree with in the complaint response, and; what further action they would
#    like to be taken"; never under the Complaint Handling Code (6.12).
async def test_council_004_needs_the_reasons_and_the_action_wanted(policies: dict[str, Policy]) -> None:
    policy = policies["council-004"]
    assert policy.stage(1).escalation_needs() == {EscalationNeed.REASONS, EscalationNeed.OUTCOME_WANTED}
    ctx, effects = await _responded(policy)
    effects.advance(timedelta(days=1))
    no_reasons = cmd.RequestEscalation(actor=RESIDENT, outcome_wanted="A new fence.")
    assert (_refusal(ctx, "request_escalation", no_reasons) or "").startswith("reasons:")
    no_action = cmd.RequestEscalation(actor=RESIDENT, reasons="The fence was never inspected.")
    assert (_refusal(ctx, "request_escalation", no_action) or "").startswith("outcome_wanted:")
    both = no_action.model_copy(update={"outcome_wanted": "A new fence."})
    await run(ctx, "request_escalation", both)
    assert ctx.state.stage == 2
    assert effects.trail[-1].detail["outcome_wanted"] == "A new fence."  # on the event, not in the state


def test_escalation_requires_is_refused_under_the_code_and_on_the_last_stage(
    policies: dict[str, Policy],
) -> None:
    with pytest.raises(ValidationError, match="6.12"):
        _with_stage(policies["complaint-handling-code"], 1, escalation_requires=["outcome_wanted"])
    with pytest.raises(ValidationError, match="escalation_requires belongs on the stage"):
        _with_stage(policies["council-004"], 2, escalation_requires=["reasons"])


# 6. The time limit in local dates: "Complaints must be made no later than 12 months after the date on which
#    the matter occurred" (Barking and Dagenham). Matter on 1 July 2026: the last day is 1 July 2027.
def test_the_time_limit_compares_the_london_date(policies: dict[str, Policy]) -> None:
    policy = policies["barking-dagenham"]
    arose = date(2026, 7, 1)
    evening = datetime(2027, 7, 1, 22, 30, tzinfo=UTC)  # 23:30 on 1 July in London: in time
    late_evening = datetime(2027, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London: one day late
    assert not out_of_time(policy, evening, arose)
    assert out_of_time(policy, late_evening, arose)
    problem = check_time_limit(policy, late_evening, arose, None)
    assert problem is not None and problem.startswith("out_of_time_reason:")
    # A matter on 2 July 2027 is not "after" a complaint made at 00:30 on 2 July in London.
    assert check_time_limit(policy, late_evening, date(2027, 7, 2), None) is None


# Also: a linked complaint keeps the day the resident raised it (as an escalation request does).
async def test_a_linked_complaint_keeps_the_day_the_resident_raised_it(policies: dict[str, Policy]) -> None:
    policy = policies["bexley"]
    ctx, effects = await new_complaint(policy, intake(policy.id, at(date(2027, 6, 7))))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    effects.clock = at(date(2027, 6, 15))
    raised = at(date(2027, 6, 11), 15)  # a call on Friday 11 June, logged the next Tuesday
    future = cmd.OpenLinkedComplaint(actor=OFFICER, summary="The bins.", received_at=at(date(2027, 6, 16)))
    assert "future" in (_refusal(ctx, "open_linked_complaint", future) or "")
    before = future.model_copy(update={"received_at": at(date(2027, 6, 4))})
    assert "before this complaint" in (_refusal(ctx, "open_linked_complaint", before) or "")
    await run(ctx, "open_linked_complaint", future.model_copy(update={"received_at": raised}))
    assert effects.linked[-1].received_at == raised
    # Bexley acknowledges in 2 working days: from Friday 11 June, Tuesday 15 June (not Thursday 17 June).
    assert deadlines.plan_stage(policy, 1, raised).acknowledge_by == date(2027, 6, 15)
    # Without a date, it is raised when logged.
    await run(ctx, "open_linked_complaint", cmd.OpenLinkedComplaint(actor=OFFICER, summary="Parking."))
    assert effects.linked[-1].received_at == at(date(2027, 6, 15))


# `complaints policy check` accepts the new fields in every shipped file, and names a misplaced one.
def test_policy_check_accepts_the_new_fields_and_refuses_them_misplaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = sorted(str(path) for path in POLICIES_DIR.glob("*.toml"))
    assert main(["policy", "check", *shipped]) == 0
    assert all(": OK (" in line for line in capsys.readouterr().out.splitlines() if line)
    text = (POLICIES_DIR / "council-004.toml").read_text(encoding="utf-8")
    misplaced = tmp_path / "council-004.toml"
    misplaced.write_text(
        text.replace(
            'investigated_by = "Head of Service"\n',
            'investigated_by = "Head of Service"\nindependent_of = "anyone_who_acted_on_stage_1"\n',
        ),
        encoding="utf-8",
    )
    code = tmp_path / "code.toml"
    code.write_text(
        (POLICIES_DIR / "complaint-handling-code.toml")
        .read_text(encoding="utf-8")
        .replace('id = "complaint-handling-code"', 'id = "code"')
        .replace(
            "late_escalation_at_discretion = true\n",
            'late_escalation_at_discretion = true\nescalation_requires = ["outcome_wanted"]\n',
            1,
        ),
        encoding="utf-8",
    )
    assert main(["policy", "check", str(misplaced), str(code)]) == 1
    out = capsys.readouterr().out
    assert "independent_of belongs on Stage 2" in out
    assert "escalation_requires is not allowed under the Complaint Handling Code" in out
