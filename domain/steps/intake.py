"""Steps of a new complaint: acknowledge, decline, assign."""

from __future__ import annotations

from typing import Any

from domain import commands as cmd
from domain.letters import staff_notice, to_complainant
from domain.models import LedgerEntry, Status
from domain.steps import Applied, Ctx, progress


async def acknowledge(ctx: Ctx, command: cmd.Acknowledge) -> Applied:
    state, policy, effects = ctx.state, ctx.policy, ctx.effects
    stage = state.current
    stage.acknowledged_at = effects.now()
    counts_from = policy.stage(stage.number).respond.counts_from
    if counts_from == "acknowledgement":
        # The response window counts from acknowledgement: plan it now that the day is known. A late
        # acknowledgement buys no time: the planner's one rule (domain.deadlines.response_counts_from) says
        # from when, for the complaint and the date planner alike.
        plan = await effects.plan(stage.number, stage.received_at, stage.acknowledged_at)
        stage.plan = plan
        stage.respond_by = plan.respond.on
        stage.extension_limit_by = plan.extension_limit.on if plan.extension_limit else None
        stage.ledger.append(
            LedgerEntry(at=effects.now(), kind="planned", respond_by=plan.respond.on, reason="acknowledged")
        )
    late = stage.acknowledged_at > stage.plan.acknowledge.at
    if command.update_every_working_days is not None:
        # The cadence agreed with the complainant wins over the policy's; the letter confirms it.
        stage.update_every_working_days = command.update_every_working_days
    updates = progress.letter_context(stage, policy)
    if stage.number == 1:
        letter = to_complainant(state, policy, "acknowledgement", respond_by=stage.respond_by, **updates)
    else:
        # The Stage 2 letter restates what this stage is about: the reasons and the outcome now wanted,
        # filled in from the stage's request on the case record when the letter is written (issue 23).
        letter = to_complainant(
            state,
            policy,
            "stage2_acknowledgement",
            respond_by=stage.respond_by,
            story_of_stage=stage.number,
            **updates,
        )
    return Applied(
        Status.ACKNOWLEDGED, {"respond_by": stage.respond_by, "late": late, "note": command.note}, [letter]
    )


async def decline(ctx: Ctx, command: cmd.Decline) -> Applied:
    exclusion = ctx.policy.exclusion(command.exclusion_code)
    assert exclusion is not None  # the rule refused unknown codes
    ctx.state.closure_reason = f"declined: {exclusion.label}"
    detail = {"exclusion": exclusion.code, "reason": command.reason, "signposting": exclusion.signposting}
    letter = to_complainant(
        ctx.state,
        ctx.policy,
        "decline",
        exclusion=exclusion.label,
        reason=command.reason,
        signposting=exclusion.signposting,
        ombudsman=ctx.policy.ombudsman.signposting,
    )
    return Applied(Status.DECLINED, detail, [letter])


async def assign(ctx: Ctx, command: cmd.Assign) -> Applied:
    state = ctx.state
    before = state.current.assigned_to
    state.current.assigned_to = command.assignee
    if command.assignee not in state.current.assigned_ever:
        # Stage 2 independence looks at everyone who ever held Stage 1 (distinct staff: bounded).
        state.current.assigned_ever.append(command.assignee)
    state.assigned_to = command.assignee
    stage = state.current
    if stage.at_early_resolution and stage.early_resolution is not None:
        # Issue 28: Stage 1's response date is not running yet; the early resolution's is.
        due: dict[str, Any] = {"early_resolution_by": stage.early_resolution.on}
    else:
        due = {"respond_by": stage.respond_by}
    notice = staff_notice(state, "assigned", command.assignee, **due)
    return Applied(state.status, {"from": before, "to": command.assignee}, [notice])
