"""`domain.steps.Effects` without Temporal: the policy engine called directly, a clock the test moves.

The apply steps and timers are pure domain code; with these effects they run in plain unit tests through the
workflow's own event sequence (`domain.lifecycle`), so a rule or a step is checked in milliseconds, and the
workflow tests only check what Temporal adds (timers, recording, continue-as-new).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from activities.engine_effects import EngineEffects
from domain import commands as cmd
from domain import lifecycle, timers
from domain.actions import ACTIONS
from domain.models import SYSTEM, Actor, Intake, Notification, Transition
from domain.policy import Policy
from domain.steps import Ctx


class DirectEffects(EngineEffects):
    """The production engine effects, with a clock the test moves and a record of what the steps did."""

    def __init__(self, policy: Policy, now: datetime) -> None:
        super().__init__(policy, now)
        self.linked: list[Intake] = []
        # Every letter and notice the steps and timers sent, in order (the workflow would record them).
        self.sent: list[Notification] = []
        # Every event's transition, in order (the workflow writes them to the event trail in PostgreSQL).
        self.trail: list[Transition] = []

    def advance(self, delta: timedelta) -> None:
        self.clock += delta

    async def open_linked(self, intake: Intake, actor: Actor) -> str:
        self.linked.append(intake)
        return f"LINKED-{len(self.linked)}"


async def new_complaint(policy: Policy, intake: Intake, reference: str = "T-1") -> tuple[Ctx, DirectEffects]:
    """A complaint as the workflow opens it (domain.lifecycle.open_complaint): Stage 1 planned from the
    receipt, status received."""
    effects = DirectEffects(policy, intake.received_at)
    opened = await lifecycle.open_complaint(reference, intake, SYSTEM, policy, effects)
    return Ctx(opened.state, policy, effects), effects


async def run(ctx: Ctx, name: str, command: cmd.Command) -> None:
    """What the workflow does for one action (domain.lifecycle.take_action), the change swapped in at once
    (no recording)."""
    change = await lifecycle.take_action(ctx.state, ctx.policy, ctx.effects, ACTIONS[name], command)
    _swap(ctx, change)


async def fire_next(ctx: Ctx) -> str:
    """What the workflow does when its next timer passes: the clock moves to it, and its event applies."""
    effects = ctx.effects
    assert isinstance(effects, DirectEffects)
    timer = timers.next_timer(ctx.state, ctx.policy, effects.now())
    assert timer is not None, "the complaint waits for no timer"
    effects.clock = max(effects.clock, timer.at)
    if timer.kind == "end_of_life":
        return timer.kind
    _swap(ctx, await lifecycle.fire_timer(ctx.state, ctx.policy, effects, timer))
    return timer.kind


def _swap(ctx: Ctx, change: lifecycle.Change) -> None:
    effects = ctx.effects
    assert isinstance(effects, DirectEffects)
    effects.sent.extend(change.letters)
    effects.trail.append(change.transition)
    ctx.state, ctx.policy = change.state, change.policy
