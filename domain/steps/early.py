"""Steps of the early-resolution step before Stage 1 (issue 28): resolve it there, or start the investigation.

Three-tier procedures ("an early resolution within 5 working days, then a Stage 1 investigation, then a
Stage 2 review"): while early resolution runs, only its own deadline does (Stage 1's clock has not started).
Resolved there, the complaint closes with that outcome. Otherwise Stage 1's clock starts from the moment the
complainant asked for an investigation or the officer decided early resolution does not fit.
"""

from __future__ import annotations

from domain import commands as cmd
from domain.letters import to_complainant
from domain.models import LedgerEntry, StageState, Status
from domain.steps import Applied, Ctx


def early_resolution_open(stage: StageState) -> bool:
    """Is the complaint still at its early-resolution step (Stage 1's clock not yet started)?"""
    return stage.at_early_resolution


async def resolve_early(ctx: Ctx, command: cmd.ResolveEarly) -> Applied:
    state, policy, effects = ctx.state, ctx.policy, ctx.effects
    stage = state.current
    assert stage.early_resolution is not None  # the rule refused otherwise
    now = effects.now()
    stage.early_resolution_ended = "resolved"
    stage.responded_at, stage.responded_by = now, command.actor.id
    stage.outcome = command.outcome  # the findings go to the event trail only (bounded state)
    name = policy.early_resolution.name if policy.early_resolution else "early resolution"
    state.closure_reason = f"resolved at {name.lower()}"
    letter = to_complainant(
        state,
        policy,
        "early_resolution_response",
        step_name=name,
        outcome=command.outcome,
        findings=command.findings,
        ombudsman=policy.ombudsman.signposting,
    )
    detail = {
        "outcome": command.outcome,
        "findings": command.findings,
        "on_time": now <= stage.early_resolution.at,
        "early_resolution": True,
    }
    return Applied(Status.CLOSED, detail, [letter])


async def start_investigation(ctx: Ctx, command: cmd.StartInvestigation) -> Applied:
    state, effects = ctx.state, ctx.effects
    stage = state.current
    assert stage.early_resolution is not None  # the rule refused otherwise
    now = effects.now()
    # Stage 1's windows count from when the complainant asked for an investigation (logged perhaps later) or
    # the decision was taken; the rule keeps it between receipt and now.
    asked = command.received_at or now
    plan = await effects.plan(1, asked)
    stage.early_resolution_ended = command.because
    stage.plan = plan
    stage.respond_by = plan.respond.on
    stage.extension_limit_by = plan.extension_limit.on if plan.extension_limit else None
    stage.ledger.append(
        LedgerEntry(
            at=now, kind="planned", respond_by=plan.respond.on, reason=f"investigation {command.because}"
        )
    )
    detail = {
        "because": command.because,
        "note": command.note,
        "respond_by": plan.respond.on,
        "early_resolution_on_time": asked <= stage.early_resolution.at,
    }
    if command.received_at is not None:
        detail["received_at"] = command.received_at
    return Applied(state.status, detail, [])
