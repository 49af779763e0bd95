"""The complaint workflow: one per complaint, from receipt to closure, under the policy it froze at the start.

Temporal owns the lifecycle: the workflow holds the state and every timer; it never reads a clock other
than `workflow.now()` and never does I/O. It only sequences what `domain/` decides:

- one Update per entry of the action table (`domain/actions.py`): the validator runs the action's rule; the
  handler runs it again under the lock (the state may have moved), applies the step, records the event in
  Postgres (one local activity) and answers a small `Receipt`;
- the timers of `domain/timers.py`: the loop sleeps until the earliest, or until an action moved a date;
- continue-as-new well before Temporal's history limits, carrying the state and the frozen policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    # pydantic validates e-mail addresses with these, imported lazily: load them (passed through) up front.
    import email_validator  # noqa: F401
    import idna  # noqa: F401

    from activities.notify import DeliverEvent, NotifyActivities
    from activities.records import RecordEvent
    from core import search_attributes as sa
    from domain import commands as cmd
    from domain import timers
    from domain.actions import ACTIONS, Action
    from domain.facts import stage_facts
    from domain.letters import complainant_recipient, staff_notice
    from domain.models import (
        SYSTEM,
        Actor,
        CaseRow,
        ComplaintState,
        Notification,
        OpenComplaint,
        Receipt,
        Role,
        StageFacts,
        Status,
        Transition,
    )
    from domain.policy import Policy
    from domain.rules import Refusal
    from domain.steps import Applied, Ctx, new_stage, note_actor, progress
    from workflows.complaint import effects
    from workflows.complaint.effects import (
        PATCH_DELIVER_NOTIFICATIONS,
        PATCH_POLICY_IN_INPUT,
        PATCH_RETIRE_PAST_REMINDERS,
        PATCH_ROLES_IN_WORKFLOW,
        PATCH_STRICT_INDEPENDENCE,
        WorkflowEffects,
    )

# Continue-as-new well before Temporal's history limits; the state is carried across.
HISTORY_EVENTS_LIMIT = 5_000
HISTORY_BYTES_LIMIT = 8 * 1024 * 1024


def _inbound(channel: str) -> Actor:
    """Who sent a signal: the resident, through an inbound channel (so a late request needs an officer)."""
    return Actor(id=f"inbound-{channel}", role=Role.RESIDENT, name=f"Inbound {channel}")


def _refuse(refusal: Refusal) -> ApplicationError:
    return ApplicationError(refusal.message, type=refusal.kind, non_retryable=True)


@workflow.defn(name="Complaint")
class ComplaintWorkflow:
    @workflow.init
    def __init__(self, start: OpenComplaint) -> None:
        self._start = start
        self._state: ComplaintState | None = start.state
        self._policy: Policy | None = start.policy
        self._lock = asyncio.Lock()
        self._opened = start.state is not None
        # Set whenever something may have moved a deadline: the timer loop re-arms.
        self._rearm = False
        self._done = False
        # Before the lean-steps release: events whose letters wait to be handed to the delivery activity.
        self._to_deliver: list[int] = []
        # What the read model and the UI already show, so an event sends only what changed.
        self._recorded_ledger: tuple[int, int] | None = None
        self._actions_changed = False
        self._attributes: tuple[Any, ...] | None = None
        for action in ACTIONS.values():
            workflow.set_update_handler(action.name, self._handler(action), validator=self._validator(action))

    # ----------------------------------------------------------------------------------------------- run

    @workflow.run
    async def run(self, start: OpenComplaint) -> ComplaintState:
        if not self._opened:
            async with self._lock:
                await self._open(start)
                self._opened = True
        while not self._done:
            if self._history_is_long(start):
                await self._deliver_queued()
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    start.model_copy(update={"state": self._ready_state(), "policy": self._policy})
                )
            timer = self._next_timer()
            try:
                timeout = None if timer is None else max(timer.at - workflow.now(), timedelta(0))
                await workflow.wait_condition(lambda: self._rearm or bool(self._to_deliver), timeout=timeout)
            except TimeoutError:
                async with self._lock:
                    # An action may have run while we waited for the lock: only fire a timer still due.
                    current = self._next_timer()
                    if current is not None and current.at <= workflow.now():
                        await self._fire(current)
            self._rearm = False
            await self._deliver_queued()
        await self._deliver_queued()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._ready_state()

    def _history_is_long(self, start: OpenComplaint) -> bool:
        info = workflow.info()
        return (
            info.get_current_history_length() > (start.continue_as_new_after_events or HISTORY_EVENTS_LIMIT)
            or info.get_current_history_size() > HISTORY_BYTES_LIMIT
            or info.is_continue_as_new_suggested()
        )

    async def _open(self, start: OpenComplaint) -> None:
        if start.policy is not None and workflow.patched(PATCH_POLICY_IN_INPUT):
            self._policy = start.policy  # frozen by whoever started the complaint
        else:
            self._policy = await effects.load_policy(start.intake.policy_id)
        plan = await self._effects().plan(1, start.intake.received_at)
        stage = new_stage(1, start.intake.received_at, plan, workflow.now())
        self._state = ComplaintState(
            reference=start.reference, intake=start.intake, status=Status.RECEIVED, stage=1, stages=[stage]
        )
        detail: dict[str, Any] = {"channel": start.intake.channel}
        if start.intake.out_of_time_reason:
            # Past the policy's time limit, taken on at the council's discretion: the reason is on record.
            detail |= {
                "matter_arose_on": start.intake.matter_arose_on,
                "accepted_out_of_time": start.intake.out_of_time_reason,
            }
        transition = self._transition("receive", start.opened_by, Status.RECEIVED, detail)
        notice = staff_notice(self._state, "new_complaint", start.opened_by.id)
        await self._record(transition, [notice], first=True)

    # ------------------------------------------------------------------------------------- messages

    @workflow.query(name="state")
    def state(self) -> ComplaintState:
        return self._ready_state()

    @workflow.update(name="opened")
    async def opened(self) -> Receipt:
        """The receipt of a new complaint, once its first event is recorded (the API's Update-with-Start)."""
        await workflow.wait_condition(lambda: self._opened)
        return self._receipt()

    @workflow.signal(name="new_information")
    async def new_information(self, signal: cmd.NewInformationSignal) -> None:
        """New information from a channel that cannot wait for an answer: applied as `add_information`."""
        command = cmd.AddInformation(actor=_inbound(signal.channel), summary=signal.text)
        await self._apply_signal("new_information", signal.channel, ACTIONS["add_information"], command)

    @workflow.signal(name="escalation_request")
    async def escalation_request(self, signal: cmd.EscalationRequestSignal) -> None:
        """A request for the next stage from a channel that cannot wait: applied as `request_escalation`."""
        command = cmd.RequestEscalation(
            actor=_inbound(signal.channel), reasons=signal.reasons, outcome_wanted=signal.outcome_wanted
        )
        await self._apply_signal("escalation_request", signal.channel, ACTIONS["request_escalation"], command)

    async def _apply_signal(self, signal: str, channel: str, action: Action, command: cmd.Command) -> None:
        """The same rules as the Update; a refusal is recorded on the case and staff are told."""
        try:
            await self._act(action, command)
        except ApplicationError as refused:
            async with self._lock:
                state = self._ready_state()
                detail = {"signal": signal, "channel": channel, "reason": refused.message}
                notice = staff_notice(state, "signal_refused", state.assigned_to, **detail)
                await self._record_system("signal_refused", Applied(state.status, detail, [notice]))

    def _validator(self, action: Action) -> Callable[[Any], None]:
        def validate(payload: Any) -> None:
            command = action.command.model_validate(payload)
            if self._state is None or self._policy is None:
                return  # still opening: the handler waits for the state, then checks
            refusal = action.refusal(self._state, self._policy, command, workflow.now())
            if refusal is not None:
                raise _refuse(refusal)

        return validate

    def _handler(self, action: Action) -> Callable[[Any], Coroutine[Any, Any, Receipt]]:
        async def handle(payload: Any) -> Receipt:
            return await self._act(action, action.command.model_validate(payload))

        return handle

    async def _act(self, action: Action, command: Any) -> Receipt:
        await workflow.wait_condition(lambda: self._opened)
        async with self._lock:
            state, policy = self._ready_state(), self._ready_policy()
            strict = not action.rule_is_strict or workflow.patched(PATCH_STRICT_INDEPENDENCE)
            roles = workflow.patched(PATCH_ROLES_IN_WORKFLOW)
            refusal = action.refusal(state, policy, command, workflow.now(), strict=strict, roles=roles)
            if refusal is not None:
                raise _refuse(refusal)
            # If the change cannot be computed or recorded, the complaint stays exactly as it was.
            before = state.model_copy(deep=True)
            try:
                ctx = Ctx(state, policy, self._effects())
                applied = await action.step(ctx, command)
                await progress.arm(ctx, applied.status)
                self._policy = ctx.policy  # a recalculation adopts today's calendar data
                self._actions_changed = action.name in (
                    "respond",
                    "complete_action",
                    "record_ombudsman_decision",
                )
                transition = self._transition(action.name, command.actor, applied.status, applied.detail)
                await self._record(transition, applied.letters)
            except ActivityError as error:
                self._state, self._policy = before, policy
                reason = error.cause.message if isinstance(error.cause, ApplicationError) else str(error)
                raise _refuse(
                    Refusal(f"this action could not be recorded: {reason}", "Unrecordable")
                ) from None
            self._rearm = True
            return self._receipt()

    # ---------------------------------------------------------------------------------------- timers

    def _next_timer(self) -> timers.Timer | None:
        return timers.next_timer(self._ready_state(), self._ready_policy(), workflow.now(), workflow.patched)

    async def _fire(self, timer: timers.Timer) -> None:
        if timer.kind == "end_of_life":
            self._done = True
            return
        state = self._ready_state()
        before = state.model_copy(deep=True)
        ctx = Ctx(state, self._ready_policy(), self._effects())
        name, applied = timers.fire(ctx, timer)
        try:
            await progress.arm(ctx, applied.status)
        except ActivityError as error:
            self._state = before
            raise RuntimeError(f"{name}: the next progress update could not be planned: {error}") from error
        self._actions_changed = timer.kind == "action_overdue"
        await self._record_system(name, applied, before)

    async def _record_system(self, name: str, applied: Applied, before: ComplaintState | None = None) -> None:
        """Record an event of the service itself (a timer, a refused signal). Only data that can never be
        stored fails here (outages are retried for ever); the complaint must not end for it: the state is
        rolled back and this workflow task fails, which Temporal retries and operations see as an alert."""
        before = before or self._ready_state().model_copy(deep=True)
        try:
            await self._record(
                self._transition(name, SYSTEM, applied.status, applied.detail), applied.letters
            )
        except ActivityError as error:
            self._state = before
            raise RuntimeError(f"{name} could not be recorded: {error}") from error

    # ------------------------------------------------------------------------------------- machinery

    def _effects(self) -> WorkflowEffects:
        return WorkflowEffects(self._ready_policy())

    def _transition(self, action: str, actor: Actor, to_status: Status, detail: dict[str, Any]) -> Transition:
        state = self._ready_state()
        if state.history:
            state.seq += 1
        transition = Transition(
            seq=state.seq,
            at=workflow.now(),
            action=action,
            actor=actor,
            stage=state.stage,
            from_status=state.status,
            to_status=to_status,
            detail=detail,
        )
        state.status = to_status
        state.history.append(transition)
        note_actor(state, actor)  # issue 24: who worked on each stage (Stage 2 independence)
        if workflow.patched(PATCH_RETIRE_PAST_REMINDERS):
            timers.retire_past_reminders(state.current, workflow.now())
        timers.refresh_flags(state, self._ready_policy())
        return transition

    async def _record(
        self, transition: Transition, letters: list[Notification], *, first: bool = False
    ) -> None:
        state = self._ready_state()
        if effects.lean():
            await effects.record(self._event(transition, letters, first=first))
            self._update_attributes(changed_only=True)
        else:
            await effects.record(self._whole_state_event(transition, letters))
            self._update_attributes(changed_only=False)
            if self._queued_before_lean(letters) and workflow.patched(PATCH_DELIVER_NOTIFICATIONS):
                self._to_deliver.append(state.seq)
        workflow.set_current_details(self._details())

    def _event(self, transition: Transition, letters: list[Notification], *, first: bool) -> RecordEvent:
        """The lean record: the event, the row after it, and the ledger or actions only when they changed."""
        state = self._ready_state()
        stage = state.current
        ledger_now = (stage.number, len(stage.ledger))
        ledger_changed = ledger_now != self._recorded_ledger
        event = RecordEvent(
            workflow_id=workflow.info().workflow_id,
            created_by=self._start.opened_by.id,
            reference=state.reference,
            seq=state.seq,
            row=CaseRow.of(state),
            intake=state.intake if first else None,
            ledger=list(stage.ledger) if ledger_changed else None,
            agreed_up_to=stage.agreed_up_to,
            actions=list(state.actions) if self._actions_changed or first else None,
            transition=transition,
            notifications=letters,
            stage=self._stage_facts(state),
        )
        self._recorded_ledger = ledger_now
        self._actions_changed = False
        return event

    def _stage_facts(self, state: ComplaintState) -> StageFacts | None:
        """The stage's facts for reports. A fault there must never hold the complaint up: the event is
        recorded without them (the read-model rebuild writes them again) and operations see the warning."""
        try:
            return stage_facts(state, self._ready_policy())
        except Exception as error:  # any fault: reports are not the lifecycle
            workflow.logger.warning("report facts of %s not built: %r", state.reference, error)
            return None

    def _whole_state_event(self, transition: Transition, letters: list[Notification]) -> RecordEvent:
        """Before the lean-steps release (replay only): the event with the whole state, letters addressed."""
        state = self._ready_state()
        return RecordEvent(
            workflow_id=workflow.info().workflow_id,
            created_by=self._start.opened_by.id,
            state=state.model_copy(update={"history": []}),
            transition=transition,
            notifications=letters,
        )

    def _queued_before_lean(self, letters: list[Notification]) -> bool:
        intake = self._ready_state().intake
        recipient = complainant_recipient(
            anonymous=intake.anonymous,
            complainant=intake.complainant.model_dump(mode="json"),
            representative=intake.representative.model_dump(mode="json") if intake.representative else None,
        )
        return any(letter.audience != "complainant" or recipient for letter in letters)

    async def _deliver_queued(self) -> None:
        """Before the lean-steps release (replay only): each event's letters went to a delivery activity."""
        while self._to_deliver:
            seq = self._to_deliver.pop(0)
            try:
                await workflow.execute_activity_method(
                    NotifyActivities.deliver_event,
                    DeliverEvent(workflow_id=workflow.info().workflow_id, seq=seq),
                    start_to_close_timeout=timedelta(minutes=5),
                    retry_policy=RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(minutes=1)),
                )
            except ActivityError:
                workflow.logger.warning("delivery of event %s left to the outbox dispatcher", seq)

    def _update_attributes(self, *, changed_only: bool) -> None:
        """Keep the Temporal UI's search attributes current; since the lean-steps release only when one of
        them changed (every upsert is an event in the history)."""
        state = self._ready_state()
        values = (
            state.intake.policy_id,
            state.stage,
            state.status.value,
            state.intake.service_area,
            state.overdue,
            state.assigned_to,
            state.next_deadline,
        )
        if changed_only and values == self._attributes:
            return
        self._attributes = values
        pairs: list[SearchAttributePair[Any]] = [
            SearchAttributePair(sa.POLICY, state.intake.policy_id),
            SearchAttributePair(sa.STAGE, state.stage),
            SearchAttributePair(sa.STATUS, state.status.value),
            SearchAttributePair(sa.SERVICE_AREA, state.intake.service_area),
            SearchAttributePair(sa.OVERDUE, state.overdue),
        ]
        updates = [pair.key.value_set(pair.value) for pair in pairs]
        updates.append(
            sa.ASSIGNED_TO.value_set(state.assigned_to) if state.assigned_to else sa.ASSIGNED_TO.value_unset()
        )
        updates.append(
            sa.NEXT_DEADLINE.value_set(state.next_deadline)
            if state.next_deadline
            else sa.NEXT_DEADLINE.value_unset()
        )
        workflow.upsert_search_attributes(updates)

    def _details(self) -> str:
        """What the Temporal UI shows on the complaint's page now (no personal data)."""
        state = self._ready_state()
        policy = self._ready_policy()
        status = state.status.value.replace("_", " ")
        lines = [f"**Stage {state.stage} ({policy.stage(state.stage).name}): {status}**"]
        deadline = timers.next_deadline(state, policy)
        if deadline is not None:
            # A deadline passes at the end of a London day, which is the same date in UTC.
            lines.append(f"Next deadline: {deadline.date().isoformat()}")
        lines.append(f"Assigned to: {state.assigned_to or 'nobody yet'}")
        lines.append(f"Overdue: {'yes' if state.overdue else 'no'}")
        return "\n\n".join(lines)

    def _receipt(self) -> Receipt:
        state = self._ready_state()
        return Receipt(reference=state.reference, seq=state.seq, status=state.status, stage=state.stage)

    def _ready_state(self) -> ComplaintState:
        if self._state is None:
            raise _refuse(Refusal("the complaint is still being opened; try again in a moment"))
        return self._state

    def _ready_policy(self) -> Policy:
        if self._policy is None:
            raise _refuse(Refusal("the complaint is still being opened; try again in a moment"))
        return self._policy
