"""Steps after a response: Stage 2, refusal, closure, withdrawal and the ombudsman."""

from __future__ import annotations

from typing import Any

from domain import commands as cmd
from domain.letters import staff_notice, to_complainant
from domain.models import ActionKind, Status
from domain.ombudsman_decisions import body_of
from domain.steps import Applied, Ctx, new_stage


async def request_escalation(ctx: Ctx, command: cmd.RequestEscalation) -> Applied:
    state, effects = ctx.state, ctx.effects
    now = effects.now()
    # A request that came by post or phone and was logged later keeps the day it arrived.
    received = command.received_at or now
    previous = state.current
    assert previous.escalation_request_by is not None  # the rule refused a last stage
    late = received > previous.escalation_request_by.at
    number = previous.number + 1
    plan = await effects.plan(number, received)
    # The reasons and the outcome wanted are on this event (the case record), not in the stage.
    state.stages.append(new_stage(number, received, plan, now))
    state.stage = number
    state.assigned_to = None
    state.closure_reason = ""
    detail = {
        "reasons": command.reasons,
        "outcome_wanted": command.outcome_wanted,
        "late": late,
        "accepted_late_reason": command.accept_late_reason if late else None,
        "window_closed_on": previous.escalation_request_by.on,
        "received_at": command.received_at,
    }
    notice = staff_notice(
        state,
        "escalation_requested",
        None,
        reasons=command.reasons,
        late=late,
        acknowledge_by=plan.acknowledge.on,
    )
    return Applied(Status.ESCALATION_REQUESTED, detail, [notice])


async def refuse_escalation(ctx: Ctx, command: cmd.RefuseEscalation) -> Applied:
    ctx.state.closure_reason = "Stage 2 refused"
    letter = to_complainant(
        ctx.state,
        ctx.policy,
        "escalation_refused",
        reasons=command.reasons,
        ombudsman=ctx.policy.ombudsman.signposting,
    )
    return Applied(Status.ESCALATION_REFUSED, {"reasons": command.reasons}, [letter])


async def close(ctx: Ctx, command: cmd.Close) -> Applied:
    ctx.state.closure_reason = "closed by staff"  # their reason is on the event and in the letter
    letter = to_complainant(
        ctx.state,
        ctx.policy,
        "closure",
        reason=command.reason,
        ombudsman=ctx.policy.ombudsman.signposting,
        next_stage_declined=command.complainant_does_not_want_next_stage,
    )
    return Applied(Status.CLOSED, {"reason": command.reason}, [letter])


async def withdraw(ctx: Ctx, command: cmd.Withdraw) -> Applied:
    ctx.state.closure_reason = "withdrawn by the complainant"
    letter = to_complainant(ctx.state, ctx.policy, "withdrawal", reason=command.reason)
    return Applied(Status.WITHDRAWN, {"reason": command.reason}, [letter])


async def refer_to_ombudsman(ctx: Ctx, command: cmd.ReferToOmbudsman) -> Applied:
    body = command.body or ctx.policy.ombudsman.body.value
    ctx.state.ombudsman = {
        "body": body,
        "reference": command.ombudsman_reference,
        "referred_at": ctx.effects.now(),
    }
    return Applied(ctx.state.status, {"body": body, "reference": command.ombudsman_reference}, [])


async def record_ombudsman_decision(ctx: Ctx, command: cmd.RecordOmbudsmanDecision) -> Applied:
    """The decision as data in the state (codes and a flag; the ombudsman's words only on the event, as a
    note); its orders join the promised actions, with due dates, overdue alerts and completion."""
    state = ctx.state
    body = body_of(str(state.ombudsman.get("body", ""))) or ctx.policy.ombudsman.body
    orders = [order.model_copy(update={"kind": ActionKind.OMBUDSMAN_ORDER}) for order in command.orders]
    dues = await ctx.effects.dues([order.due_on for order in orders]) if orders else []
    state.actions += [order.tracked(due.at) for order, due in zip(orders, dues, strict=True)]
    # A decision recorded again replaces the determination (the ombudsman reviewed it); no free text here.
    state.ombudsman.pop("decision", None)
    state.ombudsman.pop("remedy", None)
    state.ombudsman.update(
        body=body.value,
        determination=command.determination,
        complaint_handling_failure=command.complaint_handling_failure,
        decided_at=ctx.effects.now(),
    )
    detail: dict[str, Any] = {
        "body": body.value,
        "determination": command.determination,
        "complaint_handling_failure": command.complaint_handling_failure,
        "orders": [order.model_dump(mode="json") for order in command.orders],
        "decision": command.decision,
        "remedy": command.remedy,
    }
    if orders:
        detail["descriptions"] = {order.id: order.description for order in orders}
    return Applied(state.status, detail, [])
