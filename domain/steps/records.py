"""Steps that add to the case without moving it: information, linked complaints, notes, restrictions and
recalculated dates."""

from __future__ import annotations

from typing import Any

from domain import commands as cmd
from domain.deadlines import calendar_for
from domain.letters import staff_notice, to_complainant
from domain.models import Complainant, Intake, LedgerEntry, Role
from domain.rules import correspondence_stopped_until
from domain.steps import Applied, Ctx, clear_overdue_if_moved_later, progress


async def add_information(ctx: Ctx, command: cmd.AddInformation) -> Applied:
    # The text goes to the event trail (PostgreSQL) with the event; the workflow keeps only the count.
    state = ctx.state
    state.information_received += 1
    detail: dict[str, Any] = {"summary": command.summary}
    if command.received_at is not None:
        detail["received_at"] = command.received_at  # issue 27: when it arrived, if not when it was processed
    # --- issue 24 (seed rules): while correspondence on the matter is stopped, staff are told no reply is due
    stopped = correspondence_stopped_until(state, ctx.effects.now())
    extra: dict[str, Any] = {"correspondence_stopped_until": stopped} if stopped else {}
    # --- end issue 24
    if command.actor.role is not Role.RESIDENT:
        notice = staff_notice(state, "new_information", state.assigned_to, summary=command.summary, **extra)
        return Applied(state.status, detail, [notice])
    # From the resident: the officer is told of the day's first message, with the rest to read on the case,
    # not once per message (a time-zone sum, no holiday look-up: allowed in the workflow).
    today = calendar_for(ctx.policy).local_date(ctx.effects.now())
    if state.resident_message_notified_on == today:
        return Applied(state.status, detail | {"officer_told": False}, [])
    state.resident_message_notified_on = today
    notice = staff_notice(
        state, "new_information", state.assigned_to, summary=command.summary, daily=True, **extra
    )
    return Applied(state.status, detail | {"officer_told": True}, [notice])


async def open_linked_complaint(ctx: Ctx, command: cmd.OpenLinkedComplaint) -> Applied:
    """Start a new Stage 1 complaint for an unrelated issue, for the same complainant, linked to this one."""
    state = ctx.state
    facts = state.intake
    intake = Intake(
        policy_id=facts.policy_id,
        # issue 24: the day the resident raised it, when the officer logs it later.
        received_at=command.received_at or ctx.effects.now(),
        channel=facts.channel,
        # The same people: copied from this complaint's case record when the new one's row is created.
        complainant=Complainant(),
        anonymous=facts.anonymous,
        service_area=command.service_area or facts.service_area,
        summary=command.summary,
        desired_outcome=command.desired_outcome,
        related_to=state.reference,
        tenure=facts.tenure,
        parties_from=state.reference,
    )
    reference = await ctx.effects.open_linked(intake, command.actor)
    state.related_complaints.append(reference)
    detail: dict[str, Any] = {"linked_reference": reference, "summary": command.summary}
    if command.received_at is not None:
        detail["received_at"] = command.received_at
    return Applied(state.status, detail, [])


async def add_note(ctx: Ctx, command: cmd.AddNote) -> Applied:
    # The note's text is written to the event trail (PostgreSQL) by the record activity; the workflow
    # keeps only the count, so a complaint with thousands of notes stays small.
    state = ctx.state
    state.notes_added += 1
    return Applied(state.status, {"text": command.text, "length": len(command.text)}, [])


async def restrict_contact(ctx: Ctx, command: cmd.RestrictContact) -> Applied:
    """A manager limits how the person may contact the council: the channels named close for all their
    complaints (store/contact_restrictions.py) until the end date or until a manager lifts it; the manager is
    alerted on the review date."""
    state = ctx.state
    # The reason is on the event and in the letter, not in the state (issue 23).
    state.contact_restriction = {
        "until": command.until.isoformat(),
        "review_on": command.review_on.isoformat(),
        "by": command.actor.id,
    }
    review, end = await ctx.effects.dues([command.review_on, command.until])
    context: dict[str, Any] = {"channels": [channel.value for channel in command.channels]}
    state.contact_restriction |= context | {
        "review_at": progress.morning_of(review).isoformat(),
        # A closed complaint's workflow stays until then, so a manager can still lift it.
        "until_at": end.at.isoformat(),
    }
    # --- issue 24 (seed rules): the restriction also stops correspondence on the matter (the rule checked
    # the policy provides for it); the letter says so, in the council's words where it gave them.
    if command.stops_correspondence:
        state.contact_restriction["stops_correspondence"] = True
        context |= {
            "stops_correspondence": True,
            "stop_correspondence_wording": ctx.policy.contact_restrictions.stop_correspondence_wording,
        }
    # --- end issue 24
    letter = to_complainant(
        state,
        ctx.policy,
        "contact_restriction",
        until=command.until,
        review_on=command.review_on,
        reason=command.reason,
        **context,
    )
    return Applied(state.status, dict(state.contact_restriction) | {"reason": command.reason}, [letter])


async def lift_contact_restriction(ctx: Ctx, command: cmd.LiftContactRestriction) -> Applied:
    """A manager lifts the restriction (after review, or earlier): every channel opens again."""
    state = ctx.state
    restriction = state.contact_restriction or {}
    restriction |= {
        "lifted_at": ctx.effects.now().isoformat(),
        "lifted_by": command.actor.id,
    }
    state.contact_restriction = restriction
    letter = to_complainant(state, ctx.policy, "contact_restriction_lifted", reason=command.reason)
    return Applied(state.status, {"reason": command.reason, "decided_by": restriction.get("by")}, [letter])


async def recalculate_deadlines(ctx: Ctx, command: cmd.RecalculateDeadlines) -> Applied:
    """Apply today's holiday data to this stage. An extension date agreed in writing stands; the planned
    dates move, and so do the working days the clock was stopped."""
    state, effects = ctx.state, ctx.effects
    # The council's new closure days (and the holidays package's bank holidays) apply from now on; the rest
    # of the policy stays as the complaint froze it.
    ctx.policy = await effects.current_calendar()
    stage = state.current
    before = {"acknowledge_by": stage.plan.acknowledge.on, "respond_by": stage.respond_by}
    plan = await effects.plan(stage.number, stage.received_at, stage.acknowledged_at)
    extended = any(entry.kind == "extended" for entry in stage.ledger)
    stage.plan.deadlines = plan.deadlines
    stage.plan.acknowledge = plan.acknowledge
    if not extended:
        respond = plan.respond
        limit = plan.extension_limit
        lost = sum(pause.working_days_lost for pause in stage.pauses)
        if lost:
            respond = await effects.due(await effects.shift(respond.on, lost))
            if limit is not None:
                limit = await effects.due(await effects.shift(limit.on, lost), with_reminders=False)
        stage.plan.respond = respond
        stage.plan.extension_limit = limit
        stage.respond_by = respond.on
        stage.extension_limit_by = limit.on if limit else None
    clear_overdue_if_moved_later(stage, effects)
    stage.ledger.append(
        # The manager's reason is the event's (the case record's ledger shows it), not the workflow's.
        LedgerEntry(at=effects.now(), kind="recalculated", respond_by=stage.respond_by)
    )
    after = {"acknowledge_by": stage.plan.acknowledge.on, "respond_by": stage.respond_by}
    return Applied(state.status, {"before": before, "after": after, "reason": command.reason}, [])


async def record_representative_consent(ctx: Ctx, command: cmd.RecordRepresentativeConsent) -> Applied:
    """The complainant's consent for their representative arrived (the public form's representative waits
    for it where the policy needs written consent): from now on the representative gets the letters and may
    follow the complaint online."""
    state = ctx.state
    representative = state.intake.representative
    assert representative is not None  # the rule refused a complaint without one
    representative.consent_recorded = True
    representative.consent_kind = command.consent_kind
    representative.consent_recorded_on = command.received_on
    detail = {"consent_kind": command.consent_kind, "received_on": command.received_on}
    # Issue 30: the representative is told that the consent arrived and what they can now do (the letter
    # goes to them: the consent is on file when the record activity addresses it).
    letter = to_complainant(state, ctx.policy, "consent_recorded", received_on=command.received_on)
    return Applied(state.status, detail, [letter])
