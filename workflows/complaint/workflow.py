"""The complaint workflow: one per complaint, from receipt to closure, under the policy it froze at the start.

Temporal owns the lifecycle: the workflow holds the state and every timer; it never reads a clock other
than `workflow.now()` and never does I/O. It only sequences what `domain/` decides, through the one event
sequence of `domain/lifecycle.py`:

- one Update per entry of the action table (`domain/actions.py`): the validator runs the action's rule; the
  handler runs it again under the lock (the state may have moved), applies the step to a copy of the state,
  records the event in Postgres (one local activity), swaps the copy in and answers a small `Receipt`;
- the timers of `domain/timers.py`: the loop sleeps until the earliest, or until an action moved a date;
- continue-as-new well before Temporal's history limits, carrying the state and the frozen policy.

The state is bounded by design (`ComplaintState`): the text written on a complaint (notes, messages,
findings, letters) reaches Postgres with its event and is never kept here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    # pydantic validates e-mail addresses with these, imported lazily: load them (passed through) up front.
    import email_validator  # noqa: F401
    import idna  # noqa: F401

    from activities.records import RecordEvent
    from core import search_attributes as sa
    from domain import commands as cmd
    from domain import lifecycle, timers
    from domain.actions import ACTIONS, Action
    from domain.facts import stage_facts
    from domain.letters import staff_notice
    from domain.lifecycle import Change
    from domain.models import (
        Actor,
        CaseRow,
        ComplaintState,
        OpenComplaint,
        Receipt,
        Role,
        StageFacts,
    )
    from domain.policy import Policy
    from domain.rules import Refusal
    from domain.steps import Applied
    from workflows.complaint import effects
    from workflows.complaint.effects import WorkflowEffects
    from workflows.complaint.limits import (
        HISTORY_BYTES_LIMIT,
        HISTORY_EVENTS_LIMIT,
        OPENING_RUN_BYTES_LIMIT,
        OPENING_RUN_EVENTS_LIMIT,
        TASK_TIMEOUT,
    )
    from workflows.complaint.version import CODE_VERSION


def _inbound(channel: str) -> Actor:
    """Who sent a signal: the resident, through an inbound channel (so a late request needs an officer)."""
    return Actor(id=f"inbound-{channel}", role=Role.RESIDENT, name=f"Inbound {channel}")


def _refuse(refusal: Refusal) -> ApplicationError:
    return ApplicationError(refusal.message, type=refusal.kind, non_retryable=True)


def _unrecordable(error: ActivityError) -> ApplicationError:
    reason = error.cause.message if isinstance(error.cause, ApplicationError) else str(error)
    return _refuse(Refusal(f"this action could not be recorded: {reason}", "Unrecordable"))


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
        # The search attributes as last upserted in this run (every upsert is an event in the history).
        self._attributes: tuple[Any, ...] | None = None
        # An operator asked this run to move to the current code (`complaints move-to-current-code`).
        self._move_to_current_code = False
        # The stage facts this run last recorded: an event that leaves them as they were does not write the
        # stage's report row again (each write runs the report summaries' triggers under a per-council lock).
        # Memory only, rebuilt by replay; a new run writes its first event's facts.
        self._facts_recorded: StageFacts | None = None
        for action in ACTIONS.values():
            workflow.set_update_handler(action.name, self._handler(action), validator=self._validator(action))

    # ----------------------------------------------------------------------------------------------- run

    @workflow.run
    async def run(self, start: OpenComplaint) -> ComplaintState:
        if not self._opened:
            async with self._lock:
                await self._open(start)
                self._opened = True
        else:
            self._update_attributes()  # a continued run records the code version it runs on
        while not self._done:
            if self._move_to_current_code or self._history_is_long(start):
                # A safe point: the loop holds no lock and fires no timer here, and every action under way
                # is recorded (or refused) first. The new run carries the state, never the intake.
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    start.model_copy(
                        update={"intake": None, "state": self._ready_state(), "policy": self._policy}
                    ),
                    task_timeout=TASK_TIMEOUT,
                )
            timer = self._next_timer()
            try:
                timeout = None if timer is None else max(timer.at - workflow.now(), timedelta(0))
                await workflow.wait_condition(lambda: self._rearm, timeout=timeout)
            except TimeoutError:
                async with self._lock:
                    # An action may have run while we waited for the lock: only fire a timer still due.
                    current = self._next_timer()
                    if current is not None and current.at <= workflow.now():
                        await self._fire(current)
            self._rearm = False
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._ready_state()

    def _history_is_long(self, start: OpenComplaint) -> bool:
        info = workflow.info()
        events, size = start.continue_as_new_after_events or HISTORY_EVENTS_LIMIT, HISTORY_BYTES_LIMIT
        if info.task_timeout < TASK_TIMEOUT:
            # The intake's run, with a short task timeout so that a lost first task comes back while the
            # caller waits: kept small enough to replay well inside it (workflows/complaint/limits.py).
            events, size = min(events, OPENING_RUN_EVENTS_LIMIT), OPENING_RUN_BYTES_LIMIT
        return (
            info.get_current_history_length() > events
            or info.get_current_history_size() > size
            or info.is_continue_as_new_suggested()
        )

    async def _open(self, start: OpenComplaint) -> None:
        intake = start.intake
        if intake is None:
            raise RuntimeError("a new complaint's workflow was started without its intake")
        # Frozen by whoever started the complaint (the API); else the worker's file of the council.
        self._policy = start.policy or await effects.load_policy(intake.policy_id)
        change = await lifecycle.open_complaint(
            start.reference, intake, start.opened_by, self._policy, self._effects()
        )
        try:
            await self._record(change, first=True)
        except ActivityError as error:
            # Outages are retried for ever; only data that can never be stored gets here. The workflow
            # task fails and is retried (an alert: complaints_workflow_stuck), the complaint never ends.
            raise RuntimeError(f"the complaint could not be recorded: {error}") from error

    # ------------------------------------------------------------------------------------- messages

    @workflow.query(name="state")
    def state(self) -> ComplaintState:
        return self._ready_state()

    @workflow.query(name="policy")
    def policy(self) -> Policy:
        """The policy the complaint froze (issue 25: a letter previewed before an action is the one sent)."""
        return self._ready_policy()

    @workflow.update(name="opened")
    async def opened(self) -> Receipt:
        """The receipt of a new complaint, once its first event is recorded (the API's Update-with-Start)."""
        await workflow.wait_condition(lambda: self._opened)
        return self._receipt()

    @workflow.signal(name="move_to_current_code")
    def move_to_current_code(self) -> None:
        """Continue as new at the next safe point, so this complaint runs on the code now deployed (and the
        new run records its CodeVersion): docs/upgrading.md. Sent by `complaints move-to-current-code`."""
        if not self._done:
            self._move_to_current_code = True
            self._rearm = True

    @workflow.signal(name="new_information")
    async def new_information(self, signal: cmd.NewInformationSignal) -> None:
        """New information from a channel that cannot wait for an answer: applied as `add_information`."""
        command = cmd.AddInformation(
            actor=_inbound(signal.channel), summary=signal.text, received_at=self._arrived(signal.received_at)
        )
        await self._apply_signal("new_information", signal.channel, ACTIONS["add_information"], command)

    @workflow.signal(name="escalation_request")
    async def escalation_request(self, signal: cmd.EscalationRequestSignal) -> None:
        """A request for the next stage from a channel that cannot wait: applied as `request_escalation`."""
        command = cmd.RequestEscalation(
            actor=_inbound(signal.channel),
            reasons=signal.reasons,
            outcome_wanted=signal.outcome_wanted,
            received_at=self._arrived(signal.received_at),
        )
        await self._apply_signal("escalation_request", signal.channel, ACTIONS["request_escalation"], command)

    @staticmethod
    def _arrived(received_at: datetime | None) -> datetime | None:
        """When a signalled message arrived (issue 27): an e-mail the inbound sweep delivers after an outage
        keeps its arrival time. A sender's clock ahead of ours is not a reason to refuse the message: a time
        past the workflow's now is taken as now; one without a zone is UTC (what the inbound store keeps)."""
        if received_at is None:
            return None
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=UTC)
        return min(received_at, workflow.now())

    async def _apply_signal(self, signal: str, channel: str, action: Action, command: cmd.Command) -> None:
        """The same rules as the Update; a refusal is recorded on the case and staff are told."""
        try:
            await self._act(action, command)
        except ApplicationError as refused:
            async with self._lock:
                state = self._ready_state()
                detail = {"signal": signal, "channel": channel, "reason": refused.message}
                notice = staff_notice(state, "signal_refused", state.assigned_to, **detail)
                applied = Applied(state.status, detail, [notice])
                change = lifecycle.system_event(
                    state, self._ready_policy(), workflow.now(), "signal_refused", applied
                )
                await self._record_system(change)

    def _validator(self, action: Action) -> Callable[[Any], None]:
        def validate(payload: Any) -> None:
            command = action.command.model_validate(payload)
            if self._state is None or self._policy is None:
                return  # still opening: the handler waits for the state, then checks
            # The state in force: an action being recorded meanwhile works on its own copy.
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
            try:
                change = await lifecycle.take_action(
                    self._ready_state(), self._ready_policy(), self._effects(), action, command
                )
                await self._record(change)
            except lifecycle.Refused as refused:
                raise _refuse(refused.refusal) from None
            except ActivityError as error:
                # The change could not be computed or recorded: the complaint stays exactly as it was.
                raise _unrecordable(error) from None
            self._rearm = True
            return self._receipt()

    # ---------------------------------------------------------------------------------------- timers

    def _next_timer(self) -> timers.Timer | None:
        return timers.next_timer(self._ready_state(), self._ready_policy(), workflow.now())

    async def _fire(self, timer: timers.Timer) -> None:
        if timer.kind == "end_of_life":
            self._done = True
            return
        try:
            change = await lifecycle.fire_timer(
                self._ready_state(), self._ready_policy(), self._effects(), timer
            )
        except ActivityError as error:
            raise RuntimeError(f"{timer.kind}: the next update could not be planned: {error}") from error
        await self._record_system(change)

    async def _record_system(self, change: Change) -> None:
        """Record an event of the service itself (a timer, a refused signal). Only data that can never be
        stored fails here (outages are retried for ever); the complaint must not end for it: the state stays
        as it was and this workflow task fails, which Temporal retries and operations see as an alert
        (`complaints_workflow_stuck`)."""
        try:
            await self._record(change)
        except ActivityError as error:
            raise RuntimeError(f"{change.name} could not be recorded: {error}") from error

    # ------------------------------------------------------------------------------------- machinery

    def _effects(self) -> WorkflowEffects:
        return WorkflowEffects(self._ready_policy())

    async def _record(self, change: Change, *, first: bool = False) -> None:
        """Record the event in Postgres, then put the change in force (never before: a failed record leaves
        nothing of it behind)."""
        event = self._event(change, first=first)
        await effects.record(event)
        self._state, self._policy = change.state, change.policy
        if event.stage is not None:
            self._facts_recorded = event.stage
        self._update_attributes()
        workflow.set_current_details(self._details())

    def _event(self, change: Change, *, first: bool) -> RecordEvent:
        """The record: the event (its detail holds the text written with it), the row after it, and the
        ledger or actions only when they changed."""
        before, after = (None if first else self._state), change.state
        stage = after.current
        ledger_changed = (
            before is None or before.current.number != stage.number or (before.current.ledger != stage.ledger)
        )
        return RecordEvent(
            workflow_id=workflow.info().workflow_id,
            created_by=self._start.opened_by.id,
            reference=after.reference,
            seq=after.seq,
            row=CaseRow.of(after),
            intake=self._start.intake if first else None,
            ledger=list(stage.ledger) if ledger_changed else None,
            agreed_up_to=stage.agreed_up_to,
            actions=list(after.actions) if before is None or before.actions != after.actions else None,
            transition=change.transition,
            notifications=change.letters,
            stage=self._changed_facts(after, change.policy),
        )

    def _changed_facts(self, state: ComplaintState, policy: Policy) -> StageFacts | None:
        """The stage's facts for reports, when they differ from those this run last recorded (None: the
        stage's row stays as it is). A fault building them must never hold the complaint up: the event is
        recorded without them (the read-model rebuild writes them again) and operations see the warning."""
        try:
            facts = stage_facts(state, policy)
        except Exception as error:  # any fault: reports are not the lifecycle
            workflow.logger.warning("report facts of %s not built: %r", state.reference, error)
            return None
        return None if facts == self._facts_recorded else facts

    def _update_attributes(self) -> None:
        """Keep the Temporal UI's search attributes current, only when one of them changed (every upsert is
        an event in the history); the first upsert of a run records the code version it runs."""
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
        if values == self._attributes:
            return
        first_of_run = self._attributes is None
        self._attributes = values
        pairs: list[SearchAttributePair[Any]] = [
            SearchAttributePair(sa.POLICY, state.intake.policy_id),
            SearchAttributePair(sa.STAGE, state.stage),
            SearchAttributePair(sa.STATUS, state.status.value),
            SearchAttributePair(sa.SERVICE_AREA, state.intake.service_area),
            SearchAttributePair(sa.OVERDUE, state.overdue),
        ]
        updates = [pair.key.value_set(pair.value) for pair in pairs]
        if first_of_run:
            updates.append(sa.CODE_VERSION.value_set(CODE_VERSION))
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
