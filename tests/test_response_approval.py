"""Issue 25: a policy may require a manager's approval of a response (`response_approval`). Through the
action table's rules and steps (the workflow runs the same functions): the officer's response waits as a
draft, nothing is sent, the stage is answered on the approval date; who may approve or return it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from domain import commands as cmd
from domain.actions import ACTIONS
from domain.models import Actor, Outcome, Role, Status
from domain.policy import Policy
from domain.steps import Ctx
from tests.direct_effects import DirectEffects, new_complaint, run
from tests.factories import INVESTIGATOR, LONDON, MANAGER, OFFICER, intake, quiet_monday

MONDAY = quiet_monday(datetime(2027, 6, 1, tzinfo=LONDON))
NINE = datetime.combine(MONDAY, time(9, 0), tzinfo=LONDON)
RESPONSE = {"outcome": Outcome.UPHELD, "findings": "The repair was booked late."}


def refusal_of(ctx: Ctx, name: str, command: cmd.Command) -> str | None:
    refused = ACTIONS[name].refusal(ctx.state, ctx.policy, command, ctx.effects.now())
    return None if refused is None else refused.message


async def drafted(policy: Policy) -> tuple[Ctx, DirectEffects]:
    """A Bexley complaint acknowledged and assigned, under a policy asking for approval, and the
    investigator's response drafted on the second day."""
    ctx, effects = await new_complaint(policy, intake("bexley", NINE))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await run(ctx, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    effects.advance(timedelta(days=1))
    sent_before = len(effects.sent)
    await run(ctx, "respond", cmd.Respond(actor=INVESTIGATOR, **RESPONSE))
    (notice,) = effects.sent[sent_before:]  # a draft sends the resident nothing: the managers are told
    assert (notice.template, notice.audience, notice.recipient) == (
        "response_for_approval",
        "staff",
        "complaints-manager",
    )
    return ctx, effects


def draft_of(ctx: Ctx, effects: DirectEffects) -> dict[str, object]:
    """What api.casework fills in: the draft's body and sequence as the event trail holds them."""
    event = next(moved for moved in reversed(effects.trail) if moved.detail.get("draft"))
    return {"draft": event.detail["body"], "draft_seq": event.seq}


@pytest.fixture
def approving(policies: dict[str, Policy]) -> Policy:
    return policies["bexley"].model_copy(update={"response_approval": True})


async def test_without_the_field_a_response_is_sent_at_once(policies: dict[str, Policy]) -> None:
    assert policies["bexley"].response_approval is False  # the default: every existing file unchanged
    ctx, effects = await new_complaint(policies["bexley"], intake("bexley", NINE))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await run(ctx, "respond", cmd.Respond(actor=INVESTIGATOR, **RESPONSE))
    assert ctx.state.status is Status.RESPONDED
    assert effects.sent[-1].template == "response"


async def test_the_draft_waits_and_is_sent_dated_the_approval(approving: Policy) -> None:
    ctx, effects = await drafted(approving)

    def status() -> Status:  # read afresh: each action swaps the state
        return ctx.state.status

    stage = ctx.state.current
    assert status() is Status.ACKNOWLEDGED and stage.responded_at is None
    assert stage.draft_response_by == INVESTIGATOR.id
    # A second response while the first waits is refused; the investigator cannot approve it.
    again = cmd.Respond(actor=INVESTIGATOR, **RESPONSE)
    assert "waiting for a manager's approval" in (refusal_of(ctx, "respond", again) or "")
    assert not ACTIONS["approve_response"].allows(Role.INVESTIGATOR)
    assert not ACTIONS["approve_response"].allows(Role.COMPLAINTS_OFFICER)
    assert not ACTIONS["return_response"].allows(Role.REVIEWER)

    effects.advance(timedelta(days=2))  # approved on Thursday: that is the response's date
    await run(ctx, "approve_response", cmd.ApproveResponse(actor=MANAGER, **draft_of(ctx, effects)))
    assert status() is Status.RESPONDED
    answered = ctx.state.current
    assert answered.responded_at == effects.now() and answered.responded_at.date() == MONDAY + timedelta(3)
    assert answered.responded_by == INVESTIGATOR.id and answered.outcome is Outcome.UPHELD
    assert answered.draft_response_by is None
    letter = effects.sent[-1]
    assert letter.template == "response" and letter.context["findings"] == RESPONSE["findings"]
    assert effects.trail[-1].detail["approved_by"] == MANAGER.id
    assert effects.trail[-1].detail["drafted_by"] == INVESTIGATOR.id


async def test_a_manager_may_not_approve_a_draft_of_their_own(approving: Policy) -> None:
    ctx, effects = await drafted(approving)
    # The investigator who drafted it, promoted to manager before it was approved, still cannot approve it.
    promoted = Actor(id=INVESTIGATOR.id, role=Role.MANAGER, name=INVESTIGATOR.name)
    own = cmd.ApproveResponse(actor=promoted, **draft_of(ctx, effects))
    assert "another manager must approve" in (refusal_of(ctx, "approve_response", own) or "")
    # A draft other than the one waiting (or none) is refused.
    stale = cmd.ApproveResponse(actor=MANAGER, draft=RESPONSE, draft_seq=0)
    assert "not the one waiting" in (refusal_of(ctx, "approve_response", stale) or "")


async def test_a_returned_draft_sends_nothing_and_the_officer_responds_again(approving: Policy) -> None:
    ctx, effects = await drafted(approving)
    sent = len(effects.sent)
    await run(ctx, "return_response", cmd.ReturnResponse(actor=MANAGER, reason="Say what the remedy is."))
    assert ctx.state.status is Status.ACKNOWLEDGED and ctx.state.current.draft_response_by is None
    (notice,) = effects.sent[sent:]  # its author is told, the resident nothing
    assert (notice.template, notice.recipient) == ("response_returned", INVESTIGATOR.id)
    assert "remedy" not in str(notice.context)  # the reasons stay on the case's timeline
    assert effects.trail[-1].detail["reason"] == "Say what the remedy is."
    nothing = cmd.ApproveResponse(actor=MANAGER, draft=None, draft_seq=None)
    assert refusal_of(ctx, "approve_response", nothing) == "no response is waiting for approval"
    await run(ctx, "respond", cmd.Respond(actor=INVESTIGATOR, **RESPONSE))
    assert ctx.state.current.draft_response_by == INVESTIGATOR.id


async def test_a_managers_own_response_goes_out_at_once(approving: Policy) -> None:
    ctx, effects = await new_complaint(approving, intake("bexley", NINE))
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await run(ctx, "respond", cmd.Respond(actor=MANAGER, **RESPONSE))
    assert ctx.state.status is Status.RESPONDED and effects.sent[-1].template == "response"
