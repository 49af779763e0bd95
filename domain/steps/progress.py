"""Keeping the complainant informed while a stage is investigated (issue 16).

Barking and Dagenham: "agree how often we will update you"; council-003: "keep you informed of progress".
Every `update_every_working_days` (agreed with the complainant when the complaint is acknowledged or extended,
else the policy's stage setting, from acknowledgement or from the first extension) without a response, a
progress update falls due: the officer is reminded to write one, or a templated progress letter
goes out (the policy's `progress_update_by`). The cadence runs only while the stage is acknowledged and
being investigated; a request for information that stops the response clock stops it too, and the
information's arrival starts it again from that day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.deadlines import calendar_for
from domain.letters import staff_notice, to_complainant
from domain.models import Due, StageState, Status
from domain.policy import Policy, ProgressUpdateBy, ProgressUpdatesFrom
from domain.steps import Applied, Ctx, clock_runs


def cadence(stage: StageState, policy: Policy) -> int | None:
    """Working days between progress updates at this stage, or None when nobody asked for them: the cadence
    agreed with the complainant, else the policy's (from acknowledgement, or once the stage is extended)."""
    if stage.update_every_working_days is not None:
        return stage.update_every_working_days
    rules = policy.stage(stage.number)
    if rules.progress_updates_from is ProgressUpdatesFrom.EXTENSION and not any(
        entry.kind == "extended" for entry in stage.ledger
    ):
        return None
    return rules.update_every_working_days


def investigating(status: Status, policy: Policy) -> bool:
    """Is the stage being investigated, so the complainant is owed updates? Waiting for information from
    them pauses the updates only where it stops the response clock too."""
    return status in (Status.ACKNOWLEDGED, Status.AWAITING_INFORMATION) and clock_runs(status, policy)


def letter_context(stage: StageState, policy: Policy) -> dict[str, int]:
    """What an acknowledgement or extension letter says of the updates to come (nothing without a cadence)."""
    every = cadence(stage, policy)
    return {} if every is None else {"updates_every_working_days": every}


async def arm(ctx: Ctx, status: Status) -> None:
    """After an event (the complaint now in `status`): plan the next progress update, or drop it."""
    stage = ctx.state.current
    if not investigating(status, ctx.policy) or stage.responded_at is not None:
        stage.next_update = None
        return
    every = cadence(stage, ctx.policy)
    if every is None or stage.next_update is not None:
        return
    today = calendar_for(ctx.policy).local_date(ctx.effects.now())  # a time-zone sum: no holiday look-up
    on = await ctx.effects.shift(today, every)
    due = await ctx.effects.due(on, with_reminders=False)
    stage.next_update = due.model_copy(update={"at": morning_of(due)})


def morning_of(due: Due) -> datetime:
    """8 in the morning of a due day (an hour out on the two days the clocks change): an update or a review
    falls due at the start of the day, so the officer has the day to act."""
    return due.at - timedelta(hours=16)


def due_update(ctx: Ctx) -> tuple[str, Applied]:
    """The progress update that fell due: a letter to the complainant, or a reminder to the officer."""
    state, policy = ctx.state, ctx.policy
    stage = state.current
    due_on = stage.next_update.on if stage.next_update else None
    stage.next_update = None  # armed again after this event, from today
    by = policy.stage(stage.number).progress_update_by
    if by is ProgressUpdateBy.LETTER:
        late = stage.response_overdue
        letter = to_complainant(state, policy, "progress_update", respond_by=stage.respond_by, late=late)
    else:
        letter = staff_notice(
            state,
            "progress_update_due",
            state.assigned_to,
            respond_by=stage.respond_by,
            every=cadence(stage, policy),
            late=stage.response_overdue,
        )
    return "progress_update", Applied(state.status, {"by": by.value, "due": due_on}, [letter])
