"""The action table, its rules and its steps, without Temporal: each rule and step is a pure function of
(state, policy, command, now), run here with the policy engine called directly (tests/direct_effects.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from api.main import create_app
from api.permissions import allowed
from domain import commands as cmd
from domain import timers
from domain.actions import ACTIONS
from domain.letters import complainant_recipient
from domain.models import ActionItem, Outcome, Role, Status
from domain.policy import Policy
from domain.steps import Ctx
from tests.api_helpers import settings_for
from tests.direct_effects import new_complaint, run
from tests.factories import (
    INVESTIGATOR,
    LONDON,
    MANAGER,
    OFFICER,
    REVIEWER,
    intake,
    quiet_monday,
    weekdays_after,
)

# A Monday with no bank holiday in England in the following weeks: dates are plain weekday arithmetic.
MONDAY = quiet_monday(datetime(2027, 6, 1, tzinfo=LONDON))
NINE = datetime.combine(MONDAY, time(9, 0), tzinfo=LONDON)


def refusal_of(ctx: Ctx, name: str, command: cmd.Command) -> str | None:
    refused = ACTIONS[name].refusal(ctx.state, ctx.policy, command, ctx.effects.now())
    return None if refused is None else refused.message


def test_every_action_has_an_endpoint_a_command_and_a_summary() -> None:
    app = create_app(settings_for("unused"))
    paths = set(app.openapi()["paths"])
    for name, action in ACTIONS.items():
        assert f"/api/complaints/{{reference}}/{name.replace('_', '-')}" in paths, name
        assert issubclass(action.command, cmd.Command)
        assert action.summary.endswith(".")
        assert action.allowed_from, name


def test_permissions_come_from_the_table() -> None:
    assert allowed("acknowledge", Role.COMPLAINTS_OFFICER)
    assert not allowed("acknowledge", Role.INVESTIGATOR)
    assert allowed("extend", Role.INVESTIGATOR, 1) and not allowed("extend", Role.INVESTIGATOR, 2)
    assert allowed("restrict_contact", Role.MANAGER) and not allowed(
        "restrict_contact", Role.COMPLAINTS_OFFICER
    )


async def test_acknowledgement_promises_the_response_date_and_only_once(policies: dict[str, Policy]) -> None:
    ctx, effects = await new_complaint(policies["bexley"], intake("bexley", NINE))
    effects.advance(timedelta(hours=2))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    assert ctx.state.status is Status.ACKNOWLEDGED
    assert ctx.state.current.respond_by == weekdays_after(MONDAY, 15)  # Bexley: 15 working days from receipt
    again = refusal_of(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    assert (
        again == "cannot acknowledge while the complaint is acknowledged"
        " (possible when it is escalation requested, received)"
    )


async def test_response_counted_from_acknowledgement_is_planned_when_acknowledged(
    policies: dict[str, Policy],
) -> None:
    ctx, effects = await new_complaint(policies["barking-dagenham"], intake("barking-dagenham", NINE))
    effects.advance(timedelta(days=1))  # acknowledged on Tuesday
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    # Barking and Dagenham: 10 working days from acknowledgement.
    assert ctx.state.current.respond_by == weekdays_after(MONDAY + timedelta(days=1), 10)
    assert [entry.reason for entry in ctx.state.current.ledger] == ["", "acknowledged"]


async def test_an_extension_past_the_limit_needs_the_complainants_agreement(
    policies: dict[str, Policy],
) -> None:
    policy = policies["barking-dagenham"]
    ctx, effects = await new_complaint(policy, intake("barking-dagenham", NINE))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    limit = ctx.state.current.extension_limit_by
    assert limit is not None
    beyond = limit + timedelta(days=7)
    extend = cmd.Extend(actor=INVESTIGATOR, new_respond_by=beyond, reason="Survey booked")
    assert "agreement is needed" in (refusal_of(ctx, "extend", extend) or "")
    await run(
        ctx,
        "record_extension_agreement",
        cmd.RecordExtensionAgreement(actor=OFFICER, agreed=True, up_to=beyond),
    )
    assert refusal_of(ctx, "extend", extend) is None
    await run(ctx, "extend", extend)
    assert ctx.state.current.respond_by == beyond
    assert ctx.state.current.ledger[-1].kind == "extended"


async def test_stage_2_needs_someone_who_never_handled_stage_1(policies: dict[str, Policy]) -> None:
    ctx, effects = await new_complaint(policies["bexley"], intake("bexley", NINE))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    for assignee in (REVIEWER.id, INVESTIGATOR.id):  # Rita held Stage 1 for a while, then Ian
        await run(ctx, "assign", cmd.Assign(actor=OFFICER, assignee=assignee))
    await run(
        ctx, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault.")
    )
    effects.advance(timedelta(days=1))
    await run(ctx, "request_escalation", cmd.RequestEscalation(actor=OFFICER, reasons="Disagree"))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
    answer = cmd.Respond(actor=REVIEWER, outcome=Outcome.UPHELD, findings="On review, upheld.")
    action = ACTIONS["respond"]
    refused = action.refusal(ctx.state, ctx.policy, answer, effects.now())
    assert refused is not None and "Stage 2 needs someone independent" in refused.message


async def test_a_stale_view_is_refused_as_stale(policies: dict[str, Policy]) -> None:
    ctx, _ = await new_complaint(policies["bexley"], intake("bexley", NINE))
    refused = ACTIONS["acknowledge"].refusal(
        ctx.state, ctx.policy, cmd.Acknowledge(actor=OFFICER, expected_seq=3), NINE
    )
    assert refused is not None and refused.kind == "StaleState"


async def test_staff_named_in_a_complaint_cannot_act_on_it(policies: dict[str, Policy]) -> None:
    complaint = intake("bexley", NINE, staff_complained_about=[OFFICER.id])
    ctx, _ = await new_complaint(policies["bexley"], complaint)
    assert refusal_of(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER)) == (
        "this complaint is about you: it must be handled by someone else"
    )
    assert refusal_of(ctx, "acknowledge", cmd.Acknowledge(actor=MANAGER)) is None


async def test_a_response_with_actions_tracks_them_and_opens_the_escalation_window(
    policies: dict[str, Policy],
) -> None:
    ctx, effects = await new_complaint(policies["bexley"], intake("bexley", NINE))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    promised = ActionItem(
        id="fix", description="Treat the damp", owner="repairs", due_on=MONDAY + timedelta(days=30)
    )
    await run(
        ctx,
        "respond",
        cmd.Respond(
            actor=INVESTIGATOR,
            outcome=Outcome.UPHELD,
            findings="Late repair.",
            actions=[promised.model_copy(update={"completed_at": NINE})],  # a request cannot pre-complete it
        ),
    )
    assert ctx.state.status is Status.RESPONDED
    assert ctx.state.actions[0].completed_at is None and ctx.state.actions[0].due_at is not None
    window = ctx.state.current.escalation_request_by
    assert window is not None and window.on == weekdays_after(MONDAY, 20)  # 20 working days from the response
    kinds = [timer.kind for timer in timers.deadline_timers(ctx.state, ctx.policy)]
    assert sorted(kinds) == ["action_overdue", "escalation_window_closed"]


async def test_a_missed_response_alerts_the_manager_and_where_allowed_tells_the_resident(
    policies: dict[str, Policy],
) -> None:
    for policy_id, resident_told in (("westminster", True), ("bexley", False)):
        ctx, effects = await new_complaint(policies[policy_id], intake(policy_id, NINE))
        await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        timer = next(t for t in timers.deadline_timers(ctx.state, ctx.policy) if t.kind == "response_overdue")
        effects.advance(timer.at - effects.now())
        name, applied = timers.fire(ctx, timer)
        assert name == "response_overdue" and ctx.state.current.response_overdue
        templates = [letter.template for letter in applied.letters]
        assert templates == (["overdue_alert", "response_late"] if resident_told else ["overdue_alert"])
        ctx.state.status = applied.status
        timers.refresh_flags(ctx.state, ctx.policy)
        assert ctx.state.overdue


async def test_letters_carry_no_personal_data_of_the_resident(policies: dict[str, Policy]) -> None:
    ctx, _ = await new_complaint(policies["bexley"], intake("bexley", NINE))
    applied = await ACTIONS["acknowledge"].step(ctx, cmd.Acknowledge(actor=OFFICER))
    text = applied.letters[0].model_dump_json()
    for personal in ("Ada Resident", "ada@example.org", "Damp in the bedroom"):
        assert personal not in text
    assert applied.letters[0].recipient is None  # addressed by the record activity, from the case row


def test_letters_go_to_a_consented_representative_and_never_to_an_anonymous_complainant() -> None:
    assert (
        complainant_recipient(anonymous=True, complainant={"email": "a@b.org"}, representative=None) is None
    )
    consented = {"name": "Rep", "email": "rep@example.org", "consent_recorded": True}
    assert complainant_recipient(
        anonymous=False, complainant={"email": "a@b.org"}, representative=consented
    ) == ("rep@example.org")
    no_consent = {**consented, "consent_recorded": False}
    assert complainant_recipient(
        anonymous=False, complainant={"email": "a@b.org"}, representative=no_consent
    ) == ("a@b.org")
