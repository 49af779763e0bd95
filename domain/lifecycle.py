"""One event of a complaint, in the order the workflow takes it: the rule, the step, the next progress update,
the transition. Shared by the workflow and the tests' direct run (tests/direct_effects.py), so both follow
the same sequence.

Every function works on a copy of the state and returns a `Change`: the caller swaps it in only once the
event is recorded. Until then the state everyone else sees (the validator of another action, a query) is
the one before the event, and a record that fails leaves nothing of the event behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import timers
from domain.actions import Action
from domain.commands import Command
from domain.letters import staff_notice
from domain.models import (
    FINAL_STATUSES,
    SYSTEM,
    Actor,
    ComplaintState,
    Intake,
    Notification,
    Status,
    Transition,
)
from domain.policy import Policy
from domain.rules import Refusal
from domain.steps import Applied, Ctx, Effects, new_stage, note_actor, progress

# The last few events' transitions stay in the state, without their text, so the nightly reconciliation
# and the read-model rebuild can put back event rows lost after a restore (the text is PostgreSQL's alone).
RECENT_EVENTS = 10
SHORT_TEXT = 100


# The details that hold what people wrote (never kept in the state, whatever their length).
FREE_TEXT = frozenset(
    {
        "text",
        "summary",
        "reason",
        "reasons",
        "findings",
        "lessons",
        "outcome_wanted",
        "request",
        "note",
        "decision",
        "remedy",
        "lift_reason",
        "accepted_late_reason",
        "accepted_out_of_time",
        "signposting",
        "desired_outcome",
    }
)


def _without_text(moved: Transition) -> Transition:
    """The transition with only its short, non-free-text details (codes, dates, flags, ids)."""

    def short(value: object) -> bool:
        if isinstance(value, str):
            return len(value) <= SHORT_TEXT
        if isinstance(value, list):
            return len(value) <= RECENT_EVENTS and all(short(item) for item in value)
        return not isinstance(value, dict)

    kept = {key: value for key, value in moved.detail.items() if key not in FREE_TEXT and short(value)}
    return moved.model_copy(update={"detail": kept})


class Refused(Exception):
    """The action's rule refused it: nothing changed."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


@dataclass(frozen=True)
class Change:
    """A complaint after one event, not yet in force: the new state (and policy, which a recalculation
    refreshes), the transition for the event trail and the letters it sends."""

    state: ComplaintState
    policy: Policy
    transition: Transition
    letters: list[Notification]

    @property
    def name(self) -> str:
        return self.transition.action


async def open_complaint(
    reference: str, intake: Intake, opened_by: Actor, policy: Policy, effects: Effects
) -> Change:
    """A new complaint: Stage 1 planned from its receipt, status received, the officers told."""
    now = effects.now()
    plan = await effects.plan(1, intake.received_at)
    state = ComplaintState(
        reference=reference,
        intake=intake.facts(),  # the story and the people go to the case record with this event
        status=Status.RECEIVED,
        stage=1,
        stages=[new_stage(1, intake.received_at, plan, now)],
    )
    detail: dict[str, Any] = {"channel": intake.channel}
    if intake.out_of_time_reason:
        # Past the policy's time limit, taken on at the council's discretion: the reason is on record.
        detail |= {
            "matter_arose_on": intake.matter_arose_on,
            "accepted_out_of_time": intake.out_of_time_reason,
        }
    notice = staff_notice(state, "new_complaint", opened_by.id)
    applied = Applied(Status.RECEIVED, detail, [notice])
    return Change(state, policy, transition(state, policy, "receive", opened_by, applied, now), [notice])


async def take_action(
    state: ComplaintState, policy: Policy, effects: Effects, action: Action, command: Command
) -> Change:
    """A staff or resident action: refused by its rule (`Refused`), or applied to a copy of the state."""
    refusal = action.refusal(state, policy, command, effects.now())
    if refusal is not None:
        raise Refused(refusal)
    ctx = Ctx(state.model_copy(deep=True), policy, effects)
    applied = await action.step(ctx, command)
    return await _conclude(ctx, action.name, command.actor, applied)


async def fire_timer(state: ComplaintState, policy: Policy, effects: Effects, timer: timers.Timer) -> Change:
    """The event of a timer that passed (never `end_of_life`, which ends the workflow)."""
    ctx = Ctx(state.model_copy(deep=True), policy, effects)
    name, applied = timers.fire(ctx, timer)
    return await _conclude(ctx, name, SYSTEM, applied)


def system_event(state: ComplaintState, policy: Policy, now: datetime, name: str, applied: Applied) -> Change:
    """An event of the service itself that changes nothing but the trail (a refused signal)."""
    after = state.model_copy(deep=True)
    return Change(after, policy, transition(after, policy, name, SYSTEM, applied, now), applied.letters)


async def _conclude(ctx: Ctx, name: str, actor: Actor, applied: Applied) -> Change:
    await progress.arm(ctx, applied.status)
    moved = transition(ctx.state, ctx.policy, name, actor, applied, ctx.effects.now())
    return Change(ctx.state, ctx.policy, moved, applied.letters)


def transition(
    state: ComplaintState, policy: Policy, name: str, actor: Actor, applied: Applied, now: datetime
) -> Transition:
    """Move `state` to the applied status and count the event; the transition (with its detail, which may
    hold free text) goes to the event trail, never into the state."""
    stage = state.current
    moved = Transition(
        seq=state.events,
        at=now,
        action=name,
        actor=actor,
        stage=state.stage,
        from_status=state.status,
        to_status=applied.status,
        detail=applied.detail,
    )
    if applied.status in FINAL_STATUSES and state.status not in FINAL_STATUSES:
        # The move into the ending (an ombudsman referral recorded afterwards keeps the status).
        stage.ended, stage.ended_at = applied.status, now
    if name == "decline":
        stage.exclusion = str(applied.detail.get("exclusion"))
    state.status = applied.status
    note_actor(state, actor)  # issue 24: who worked on each stage (Stage 2 independence)
    state.seq = moved.seq
    state.events += 1
    state.last_event_at = now
    state.recent = [*state.recent[-(RECENT_EVENTS - 1) :], _without_text(moved)]
    timers.retire_past_reminders(stage, now)
    timers.refresh_flags(state, policy)
    return moved
