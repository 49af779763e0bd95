"""The complaint's timers: which deadlines it is waiting on now, and what happens when one passes.

Every timer is derived from the state, so a moved date re-arms it (the workflow waits until the earliest one,
or until an action changes the state). Overdue is a flag, not an end: it stays true while something the
council owes is late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.letters import manager_alert, staff_notice, to_complainant
from domain.models import FINAL_STATUSES, ComplaintState, Due, StageState, Status
from domain.policy import Policy
from domain.steps import Applied, Ctx, clock_runs, progress
from domain.steps.early import early_resolution_open

# A closed complaint's workflow stays open this long so that a late escalation, an ombudsman referral or a
# note can still be recorded; it stays open past it for as long as promised actions are outstanding.
POST_CLOSURE = timedelta(days=90)

AWAITING_ACKNOWLEDGEMENT = frozenset({Status.RECEIVED, Status.ESCALATION_REQUESTED})


@dataclass(frozen=True)
class Timer:
    at: datetime
    kind: str  # reminder | acknowledgement_overdue | response_overdue | extension_limit_passed |
    #            escalation_window_closed | action_overdue | progress_update | restriction_review |
    #            restriction_ended | end_of_life
    name: str = ""  # a reminder's deadline (acknowledge, respond)
    key: str = ""  # a reminder's key, or an action's id
    due_on: date | None = None


def clock_running(state: ComplaintState, policy: Policy) -> bool:
    return clock_runs(state.status, policy)


def _reminders(name: str, due: Due, stage: StageState) -> list[Timer]:
    return [
        Timer(at=at, kind="reminder", name=name, key=key, due_on=due.on)
        for at in due.reminders
        if (key := f"{name}:{at.isoformat()}") not in stage.reminders_sent and stage.received_at < at < due.at
    ]


def deadline_timers(state: ComplaintState, policy: Policy) -> list[Timer]:
    """Every deadline timer the complaint is waiting on now."""
    stage = state.current
    timers: list[Timer] = []
    # Issue 28: during early resolution only its own deadline runs; Stage 1's clock has not started.
    at_early = early_resolution_open(stage)
    if at_early and stage.early_resolution is not None and not stage.early_resolution_overdue:
        timers.append(Timer(at=stage.early_resolution.at, kind="early_resolution_overdue"))
    if state.status in AWAITING_ACKNOWLEDGEMENT and not at_early:
        timers += _reminders("acknowledge", stage.plan.acknowledge, stage)
        if not stage.acknowledgement_overdue:
            timers.append(Timer(at=stage.plan.acknowledge.at, kind="acknowledgement_overdue"))
    if clock_running(state, policy) and not at_early:
        timers += _reminders("respond", stage.plan.respond, stage)
        if not stage.response_overdue:
            timers.append(Timer(at=stage.plan.respond.at, kind="response_overdue"))
        limit = stage.plan.extension_limit
        if limit is not None and not stage.extension_limit_passed and limit.at > stage.plan.respond.at:
            timers.append(Timer(at=limit.at, kind="extension_limit_passed"))
    if state.status is Status.RESPONDED and stage.escalation_request_by is not None:
        timers.append(Timer(at=stage.escalation_request_by.at, kind="escalation_window_closed"))
    for action in state.actions:
        if action.completed_at is None and not action.overdue and action.due_at is not None:
            timers.append(Timer(at=action.due_at, kind="action_overdue", key=action.id))
    if progress.investigating(state.status, policy) and stage.next_update is not None:
        timers.append(Timer(at=stage.next_update.at, kind="progress_update", due_on=stage.next_update.on))
    review = restriction_moment(state, "review_at", done="review_alerted")
    if review is not None:
        timers.append(Timer(at=review, kind="restriction_review"))
    end = restriction_moment(state, "until_at", done="ended")
    if end is not None:
        timers.append(Timer(at=end, kind="restriction_ended"))
    return timers


def restriction_moment(state: ComplaintState, key: str, *, done: str) -> datetime | None:
    """When the complaint's contact restriction must be reviewed (`review_at`) or ends (`until_at`), while
    that is still ahead: not once it happened (`done`) or the restriction was lifted."""
    restriction = state.contact_restriction
    if not restriction or restriction.get("lifted_at") or restriction.get(done):
        return None
    moment = restriction.get(key)
    if isinstance(moment, datetime):
        return moment
    return datetime.fromisoformat(moment) if isinstance(moment, str) else None


def restriction_review_at(state: ComplaintState) -> datetime | None:
    return restriction_moment(state, "review_at", done="review_alerted")


def restriction_pending(state: ComplaintState) -> bool:
    """A restriction still to be reviewed or still in force: a closed complaint's workflow waits for it."""
    return restriction_review_at(state) is not None or (
        restriction_moment(state, "until_at", done="ended") is not None
    )


def next_timer(state: ComplaintState, policy: Policy, now: datetime) -> Timer | None:
    timers = deadline_timers(state, policy)
    outstanding = any(action.completed_at is None for action in state.actions)
    # A closed complaint's workflow stays for its promised actions and for a restriction's review.
    if state.status in FINAL_STATUSES and not outstanding and not restriction_pending(state):
        final_at = state.last_event_at or now
        # Residents may go to the ombudsman months after the council's last word (the LGSCO within 12):
        # the complaint stays open for the referral and the decision that long.
        kept = max(POST_CLOSURE, timedelta(days=31 * policy.ombudsman.tracked_months))
        timers.append(Timer(at=final_at + kept, kind="end_of_life"))
    return min(timers, key=lambda timer: timer.at) if timers else None


def next_deadline(state: ComplaintState, policy: Policy) -> datetime | None:
    """The next moment the council owes something by (shown in the Temporal UI as NextDeadline)."""
    stage = state.current
    if state.status in AWAITING_ACKNOWLEDGEMENT:
        return min(stage.plan.acknowledge.at, stage.plan.respond.at)
    if clock_running(state, policy):
        return stage.plan.respond.at
    if state.status is Status.RESPONDED and stage.escalation_request_by is not None:
        return stage.escalation_request_by.at
    return None


def refresh_flags(state: ComplaintState, policy: Policy) -> None:
    """Overdue is true while something the council owes is late: an acknowledgement, a response, an action."""
    stage = state.current
    late_ack = stage.acknowledgement_overdue and state.status in AWAITING_ACKNOWLEDGEMENT
    late_response = (
        stage.response_overdue and state.status not in FINAL_STATUSES and stage.responded_at is None
    )
    late_action = any(action.overdue and action.completed_at is None for action in state.actions)
    state.overdue = late_ack or late_response or late_action
    state.next_deadline = next_deadline(state, policy)


def retire_past_reminders(stage: StageState, now: datetime) -> None:
    """A reminder whose time has passed is not sent late: when a date moves (extension, clock restart,
    acknowledgement) or a complaint is logged days after receipt, staff get the reminders still ahead,
    not a burst of stale ones."""
    for name, due in (("acknowledge", stage.plan.acknowledge), ("respond", stage.plan.respond)):
        for at in due.reminders:
            key = f"{name}:{at.isoformat()}"
            if at <= now and key not in stage.reminders_sent:
                stage.reminders_sent.append(key)


# -------------------------------------------------------------------------- what a passed timer does


def fire(ctx: Ctx, timer: Timer) -> tuple[str, Applied]:
    """The system event of a timer that passed: its action name (for the event trail) and its effect."""
    state, policy = ctx.state, ctx.policy
    stage = state.current
    if timer.kind == "reminder":
        stage.reminders_sent.append(timer.key)
        notice = staff_notice(state, f"reminder_{timer.name}", state.assigned_to, due_on=timer.due_on)
        return f"reminder_{timer.name}", Applied(state.status, {"due": timer.due_on}, [notice])
    if timer.kind == "acknowledgement_overdue":
        stage.acknowledgement_overdue = True
        due = stage.plan.acknowledge.on
        return timer.kind, Applied(state.status, {"due": due}, [manager_alert(state, "acknowledgement", due)])
    if timer.kind == "response_overdue":
        stage.response_overdue = True
        letters = [manager_alert(state, "response", stage.respond_by)]
        if policy.ombudsman.early_referral_when_deadline_missed:
            letters.append(
                to_complainant(
                    state,
                    policy,
                    "response_late",
                    due=stage.respond_by,
                    ombudsman=policy.ombudsman.signposting,
                )
            )
        return timer.kind, Applied(state.status, {"due": stage.respond_by}, letters)
    if timer.kind == "extension_limit_passed":
        # Still no response when even an extension without agreement would have run out: the manager is
        # told, and (only where the policy allows early referral) the complainant may go to the ombudsman now.
        stage.extension_limit_passed = True
        limit = stage.plan.extension_limit.on if stage.plan.extension_limit else None
        letters = [manager_alert(state, "extension_limit", limit)]
        if policy.ombudsman.early_referral_when_deadline_missed:
            letters.append(
                to_complainant(
                    state,
                    policy,
                    "ombudsman_available",
                    due=stage.respond_by,
                    ombudsman=policy.ombudsman.signposting,
                )
            )
        return timer.kind, Applied(state.status, {"limit": limit}, letters)
    if timer.kind == "early_resolution_overdue":  # issue 28
        stage.early_resolution_overdue = True
        early_due = stage.early_resolution.on if stage.early_resolution else None
        alert = manager_alert(state, "early_resolution", early_due)
        return timer.kind, Applied(state.status, {"due": early_due}, [alert])
    if timer.kind == "escalation_window_closed":
        window = stage.escalation_request_by
        state.closure_reason = "escalation window closed"
        letter = to_complainant(
            state, policy, "closure", reason=state.closure_reason, ombudsman=policy.ombudsman.signposting
        )
        return timer.kind, Applied(
            Status.CLOSED, {"window_closed_on": window.on if window else None}, [letter]
        )
    if timer.kind == "action_overdue":
        action = next(item for item in state.actions if item.id == timer.key)
        action.overdue = True
        letters = [
            staff_notice(
                state,
                "action_overdue",
                action.owner,
                action_id=action.id,
                due_on=action.due_on,
            ),
            manager_alert(state, "action", action.due_on, action_id=action.id),
        ]
        return timer.kind, Applied(state.status, {"action_id": action.id}, letters)
    if timer.kind == "progress_update":
        return progress.due_update(ctx)
    if timer.kind == "restriction_review":
        restriction = state.contact_restriction or {}
        restriction["review_alerted"] = True
        review_on = restriction.get("review_on")
        alert = manager_alert(state, "contact_restriction_review", review_on, until=restriction.get("until"))
        return timer.kind, Applied(state.status, {"review_on": review_on}, [alert])
    if timer.kind == "restriction_ended":
        # The end date the complainant was given: the channels opened by themselves (the table's date).
        restriction = state.contact_restriction or {}
        restriction["ended"] = True
        return timer.kind, Applied(state.status, {"until": restriction.get("until")}, [])
    raise ValueError(f"no event for timer {timer.kind!r}")
