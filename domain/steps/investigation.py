"""Steps of the investigation: information, extensions, the response and its promised actions."""

from __future__ import annotations

from typing import Any

from domain import commands as cmd
from domain.letters import staff_notice, to_complainant
from domain.models import ActionKind, Learning, LedgerEntry, Pause, RemedyFact, Status
from domain.steps import Applied, Ctx, clear_overdue_if_moved_later, open_pause, progress


async def request_information(ctx: Ctx, command: cmd.RequestInformation) -> Applied:
    state, policy = ctx.state, ctx.policy
    stage = state.current
    clock_stops = policy.clock_stops_for_information
    if clock_stops:
        stage.pauses.append(Pause(started_at=ctx.effects.now()))
    letter = to_complainant(
        state,
        policy,
        "information_request",
        request=command.request,
        clock_stopped=clock_stops,
        respond_by=stage.respond_by,
    )
    return Applied(
        Status.AWAITING_INFORMATION, {"request": command.request, "clock_stopped": clock_stops}, [letter]
    )


async def information_received(ctx: Ctx, command: cmd.InformationReceived) -> Applied:
    state, effects = ctx.state, ctx.effects
    stage = state.current
    detail: dict[str, Any] = {"summary": command.summary}
    pause = open_pause(stage)
    if pause is None:
        return Applied(Status.ACKNOWLEDGED, detail, [])
    resumed = await effects.resume_clock(
        stage.respond_by, stage.extension_limit_by, pause.started_at, effects.now()
    )
    pause.ended_at = effects.now()
    pause.working_days_lost = resumed.working_days_lost
    stage.plan.respond = resumed.respond
    stage.plan.extension_limit = resumed.extension_limit
    stage.respond_by = resumed.respond.on
    stage.extension_limit_by = resumed.extension_limit.on if resumed.extension_limit else None
    clear_overdue_if_moved_later(stage, effects)
    stage.ledger.append(
        LedgerEntry(
            at=effects.now(),
            kind="clock_restarted",
            respond_by=stage.respond_by,
            working_days=resumed.working_days_lost,
            reason="information received",
        )
    )
    detail.update(working_days_lost=resumed.working_days_lost, respond_by=stage.respond_by)
    # The resident was told the date would move: they are told where it moved to.
    letter = to_complainant(
        state,
        ctx.policy,
        "clock_restarted",
        respond_by=stage.respond_by,
        working_days_lost=resumed.working_days_lost,
    )
    return Applied(Status.ACKNOWLEDGED, detail, [letter])


async def extend(ctx: Ctx, command: cmd.Extend) -> Applied:
    state, effects = ctx.state, ctx.effects
    stage = state.current
    due = await effects.due(command.new_respond_by)
    before = stage.respond_by
    stage.plan.respond = due
    stage.respond_by = due.on
    stage.response_overdue = False
    stage.reminders_sent = [key for key in stage.reminders_sent if not key.startswith("respond")]
    # The reason is the event's (the case record's ledger shows it); the workflow keeps the date.
    stage.ledger.append(LedgerEntry(at=effects.now(), kind="extended", respond_by=due.on))
    if command.update_every_working_days is not None:
        stage.update_every_working_days = command.update_every_working_days
        stage.next_update = None  # the agreed cadence counts from today
    letter = to_complainant(
        state,
        ctx.policy,
        "extension",
        reason=command.reason,
        respond_by=due.on,
        ombudsman=ctx.policy.ombudsman.signposting,
        **progress.letter_context(stage, ctx.policy),
    )
    return Applied(state.status, {"from": before, "to": due.on, "reason": command.reason}, [letter])


async def ask_extension_agreement(ctx: Ctx, command: cmd.AskExtensionAgreement) -> Applied:
    """The question goes on the ledger (the date asked for; the reason stays on the event and in the letter,
    not in the workflow) and in a letter; the resident's page asks it until it is answered."""
    state = ctx.state
    stage = state.current
    stage.ledger.append(
        LedgerEntry(
            at=ctx.effects.now(),
            kind="agreement_asked",
            respond_by=command.up_to,
            reason="asked the complainant to agree to a later response",
        )
    )
    letter = to_complainant(
        state,
        ctx.policy,
        "extension_agreement_request",
        reason=command.reason,
        up_to=command.up_to,
        respond_by=stage.respond_by,
    )
    return Applied(state.status, {"up_to": command.up_to, "reason": command.reason}, [letter])


async def record_extension_agreement(ctx: Ctx, command: cmd.RecordExtensionAgreement) -> Applied:
    state = ctx.state
    agreed_to = command.up_to if command.agreed else None
    state.current.agreed_up_to = agreed_to
    state.current.ledger.append(
        LedgerEntry(
            at=ctx.effects.now(),
            kind="agreement" if command.agreed else "agreement_refused",
            respond_by=state.current.respond_by,
            reason=f"complainant agreed to a response by {agreed_to}" if agreed_to else "complainant refused",
        )
    )
    notice = staff_notice(
        state, "extension_agreement", state.assigned_to, agreed=command.agreed, up_to=agreed_to
    )
    return Applied(state.status, {"agreed": command.agreed, "up_to": agreed_to}, [notice])


async def respond(ctx: Ctx, command: cmd.Respond) -> Applied:
    state, policy, effects = ctx.state, ctx.policy, ctx.effects
    stage = state.current
    stage.responded_at = effects.now()
    stage.responded_by = command.actor.id
    stage.outcome = command.outcome
    stage.remedies = [
        RemedyFact(kind=remedy.kind, amount_pence=remedy.amount_pence) for remedy in command.remedies
    ]
    promised = [action.model_copy(update={"kind": ActionKind.REMEDY}) for action in command.actions]
    learning = command.learning
    if learning is not None:
        # Improvements are tracked like the promised actions: due dates, overdue alerts, completion.
        stage.root_cause = learning.root_cause
        promised += [
            item.model_copy(update={"kind": ActionKind.IMPROVEMENT}) for item in learning.improvements
        ]
    dues = await effects.dues([action.due_on for action in promised]) if promised else []
    # Promised actions start open, whatever the request says; their descriptions go to the case record.
    state.actions += [action.tracked(due.at) for action, due in zip(promised, dues, strict=True)]
    window = await effects.escalation_window(
        stage.number, stage.responded_at, command.sent_by, stage.received_at, state.intake.matter_arose_on
    )
    stage.escalation_request_by = window
    final = window is None
    if final:
        state.closure_reason = f"Stage {stage.number} response sent"
    pause = open_pause(stage)
    if pause is not None:
        pause.ended_at = stage.responded_at  # the response ends the wait for information
    # While the clock was stopped (before the due date) the response cannot be late.
    stopped_in_time = pause is not None and pause.started_at <= stage.plan.respond.at
    detail = {
        "outcome": command.outcome,
        # The findings live on the event trail (PostgreSQL), not in the workflow's state.
        "findings": command.findings,
        "on_time": stage.responded_at <= stage.plan.respond.at or stopped_in_time,
        "escalation_request_by": window.on if window else None,
        "sent_by": command.sent_by,
    }
    if promised:
        detail["descriptions"] = {action.id: action.description for action in promised}
    letter = to_complainant(
        state,
        policy,
        "response" if stage.number == 1 else "stage2_response",
        outcome=command.outcome,
        findings=command.findings,
        remedies=[remedy.model_dump(mode="json") for remedy in command.remedies],
        actions=[action.model_dump(mode="json") for action in command.actions],
        escalation_request_by=window.on if window else None,
        ombudsman=policy.ombudsman.signposting,
        **_learning_context(learning),
    )
    if learning is not None:
        # On the case's event trail for staff (cleared by the retention purge with every event's detail).
        detail["root_cause"] = learning.root_cause
        detail["lessons"] = learning.lessons
        detail["improvements"] = [item.id for item in learning.improvements]
    return Applied(Status.CLOSED if final else Status.RESPONDED, detail, [letter])


def _learning_context(learning: Learning | None) -> dict[str, Any]:
    """What the response letter says the council will change (the lessons stay on the case)."""
    if learning is None:
        return {}
    return {
        "improvements": [
            {"description": item.description, "due_on": item.due_on} for item in learning.improvements
        ]
    }


async def complete_action(ctx: Ctx, command: cmd.CompleteAction) -> Applied:
    action = next(item for item in ctx.state.actions if item.id == command.action_id)
    action.completed_at = ctx.effects.now()
    action.completed_by = command.actor.id
    action.overdue = False
    # The complainant was promised it in the response: they are told it is done (the description is
    # filled in from the case record when the letter is written).
    letter = to_complainant(
        ctx.state, ctx.policy, "action_completed", action_id=action.id, kind=action.kind.value
    )
    letters = [letter]
    return Applied(ctx.state.status, {"action_id": action.id, "note": command.note}, letters)
