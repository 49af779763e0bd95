"""The complaint workflow: one per complaint, from receipt to closure, under its council's policy.

Temporal owns the lifecycle: the workflow holds the state and every timer (acknowledgement, response,
reminders, escalation window, promised actions). Dates come from the policy engine through activities and are
stored here; this module never reads a clock other than `workflow.now()` and never does I/O.

Every staff or resident action is an Update: its validator refuses an invalid action before anything is
written to history, and its handler re-checks under the lock (the state may have moved in between), applies
the change, records it in Postgres through an idempotent activity and returns the new state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    # pydantic validates e-mail addresses with these, imported lazily: load them (passed through) up front.
    import email_validator  # noqa: F401
    import idna  # noqa: F401

    from activities.deadlines import (
        ClockResumed,
        DeadlineActivities,
        DueOn,
        EscalationWindow,
        PlanStage,
        PolicyRequest,
        ResumeClock,
        ShiftWorkingDays,
    )
    from activities.notify import DeliverEvent, NotifyActivities
    from activities.records import AllocateReference, RecordActivities, RecordEvent
    from core import search_attributes as sa
    from core.temporal import workflow_id
    from domain import commands as cmd
    from domain.models import (
        FINAL_STATUSES,
        ActionItem,
        Actor,
        ComplaintState,
        Due,
        LedgerEntry,
        Notification,
        OpenComplaint,
        Pause,
        Role,
        StagePlan,
        StageState,
        Status,
        Transition,
    )
    from domain.policy import Policy
    from domain.transitions import StaleState, TransitionRefused, check

# A closed complaint's workflow stays open this long so that a late escalation, an ombudsman referral or a
# note can still be recorded; it stays open past it for as long as promised actions are outstanding.
POST_CLOSURE = timedelta(days=90)
# Continue-as-new well before Temporal's history limits; the state is carried across.
HISTORY_EVENTS_LIMIT = 5_000
HISTORY_BYTES_LIMIT = 8 * 1024 * 1024

# Behaviour changes, guarded with workflow.patched so histories recorded before them still replay.
PATCH_RETIRE_PAST_REMINDERS = "retire-past-reminders"
PATCH_EXTENSION_LIMIT_TIMER = "extension-limit-timer"
PATCH_DELIVER_NOTIFICATIONS = "deliver-notifications"
PATCH_CLOCK_RESTART_LETTER = "clock-restart-letter"
PATCH_REPLAN_ONLY_FROM_ACKNOWLEDGEMENT = "replan-only-from-acknowledgement"
PATCH_CLEAR_OVERDUE_WHEN_MOVED = "clear-overdue-when-moved"

ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["UnknownPolicy", "Unrecordable", "BadDate"],
)
SENIOR_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
STAFF_ROLES = frozenset(
    {Role.COMPLAINTS_OFFICER, Role.INVESTIGATOR, Role.REVIEWER, Role.MANAGER, Role.ADMIN, Role.SYSTEM}
)


def _refuse(message: str, kind: str = "TransitionRefused") -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


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
        # Events whose letters and e-mails are recorded in the outbox and not yet handed to delivery.
        self._to_deliver: list[int] = []

    # ----------------------------------------------------------------------------------------------- run

    @workflow.run
    async def run(self, start: OpenComplaint) -> ComplaintState:
        if not self._opened:
            async with self._lock:
                await self._open(start)
                self._opened = True
        while not self._done:
            info = workflow.info()
            if (
                info.get_current_history_length()
                > (start.continue_as_new_after_events or HISTORY_EVENTS_LIMIT)
                or info.get_current_history_size() > HISTORY_BYTES_LIMIT
                or info.is_continue_as_new_suggested()
            ):
                await self._deliver_queued()
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    OpenComplaint(
                        reference=start.reference,
                        intake=start.intake,
                        opened_by=start.opened_by,
                        state=self._ready_state(),
                        policy=self._policy,
                        continue_as_new_after_events=start.continue_as_new_after_events,
                    )
                )
            timer = self._next_timer()
            try:
                timeout = None if timer is None else max(timer[0] - workflow.now(), timedelta(0))
                await workflow.wait_condition(lambda: self._rearm or bool(self._to_deliver), timeout=timeout)
            except TimeoutError:
                async with self._lock:
                    # An action may have run while we waited for the lock: only fire a timer still due.
                    current = self._next_timer()
                    if current is not None and current[0] <= workflow.now():
                        await current[1]()
            self._rearm = False
            await self._deliver_queued()
        await self._deliver_queued()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._ready_state()

    async def _deliver_queued(self) -> None:
        """Hand each recorded event's messages to delivery, outside the lock: an officer's action never
        waits on e-mail. Delivery never fails on a mail server being down (the outbox dispatcher retries);
        if even the activity keeps failing, the dispatcher picks the messages up from the outbox."""
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

    async def _open(self, start: OpenComplaint) -> None:
        self._policy = await workflow.execute_activity_method(
            DeadlineActivities.load_policy,
            PolicyRequest(policy_id=start.intake.policy_id),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )
        plan = await self._plan(1, start.intake.received_at)
        stage = StageState(
            number=1,
            received_at=start.intake.received_at,
            plan=plan,
            respond_by=plan.respond.on,
            extension_limit_by=plan.extension_limit.on if plan.extension_limit else None,
            ledger=[LedgerEntry(at=workflow.now(), kind="planned", respond_by=plan.respond.on)],
        )
        self._state = ComplaintState(
            reference=start.reference, intake=start.intake, status=Status.RECEIVED, stage=1, stages=[stage]
        )
        transition = self._transition(
            "receive", start.opened_by, Status.RECEIVED, {"channel": start.intake.channel}
        )
        await self._record(transition, [self._staff_notice("new_complaint", start.opened_by.id)])

    # ------------------------------------------------------------------------------------------- queries

    @workflow.query(name="state")
    def state(self) -> ComplaintState:
        return self._ready_state()

    # -------------------------------------------------------------------------------- staff: intake

    @workflow.update(name="acknowledge")
    async def acknowledge(self, command: cmd.Acknowledge) -> ComplaintState:
        return await self._act("acknowledge", command, self._do_acknowledge)

    @acknowledge.validator
    def _validate_acknowledge(self, command: cmd.Acknowledge) -> None:
        self._validate("acknowledge", command)

    async def _do_acknowledge(
        self, command: cmd.Acknowledge
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        stage = self._ready_state().current
        stage.acknowledged_at = workflow.now()
        policy = self._ready_policy()
        counts_from = policy.stage(stage.number).respond.counts_from
        if counts_from == "acknowledgement" or (
            counts_from != "receipt" and not workflow.patched(PATCH_REPLAN_ONLY_FROM_ACKNOWLEDGEMENT)
        ):
            # The response window counts from acknowledgement: plan it now that the day is known.
            plan = await self._plan(stage.number, stage.received_at, stage.acknowledged_at)
            stage.plan = plan
            stage.respond_by = plan.respond.on
            stage.extension_limit_by = plan.extension_limit.on if plan.extension_limit else None
            stage.ledger.append(
                LedgerEntry(
                    at=workflow.now(), kind="planned", respond_by=plan.respond.on, reason="acknowledged"
                )
            )
        late = stage.acknowledged_at > stage.plan.acknowledge.at
        if stage.number == 1:
            notice = self._to_complainant("acknowledgement", respond_by=stage.respond_by)
        else:
            # The Stage 2 letter restates what this stage is about: the reasons and the outcome now wanted.
            intake = self._ready_state().intake
            notice = self._to_complainant(
                "stage2_acknowledgement",
                respond_by=stage.respond_by,
                summary=stage.request_reasons or intake.summary,
                desired_outcome=stage.outcome_wanted or intake.desired_outcome,
            )
        return (
            Status.ACKNOWLEDGED,
            {"respond_by": stage.respond_by, "late": late, "note": command.note},
            [notice],
        )

    @workflow.update(name="decline")
    async def decline(self, command: cmd.Decline) -> ComplaintState:
        return await self._act("decline", command, self._do_decline)

    @decline.validator
    def _validate_decline(self, command: cmd.Decline) -> None:
        self._validate("decline", command)

    async def _do_decline(self, command: cmd.Decline) -> tuple[Status, dict[str, Any], list[Notification]]:
        exclusion = self._ready_policy().exclusion(command.exclusion_code)
        assert exclusion is not None  # checked by _validate
        self._ready_state().closure_reason = f"declined: {exclusion.label}"
        detail = {"exclusion": exclusion.code, "reason": command.reason, "signposting": exclusion.signposting}
        return (
            Status.DECLINED,
            detail,
            [
                self._to_complainant(
                    "decline",
                    exclusion=exclusion.label,
                    reason=command.reason,
                    signposting=exclusion.signposting,
                    ombudsman=self._ready_policy().ombudsman.signposting,
                )
            ],
        )

    @workflow.update(name="assign")
    async def assign(self, command: cmd.Assign) -> ComplaintState:
        return await self._act("assign", command, self._do_assign)

    @assign.validator
    def _validate_assign(self, command: cmd.Assign) -> None:
        self._validate("assign", command)

    async def _do_assign(self, command: cmd.Assign) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        before = state.current.assigned_to
        state.current.assigned_to = command.assignee
        state.assigned_to = command.assignee
        return (
            state.status,
            {"from": before, "to": command.assignee},
            [self._staff_notice("assigned", command.assignee, respond_by=state.current.respond_by)],
        )

    # ------------------------------------------------------------------------------ investigation

    @workflow.update(name="request_information")
    async def request_information(self, command: cmd.RequestInformation) -> ComplaintState:
        return await self._act("request_information", command, self._do_request_information)

    @request_information.validator
    def _validate_request_information(self, command: cmd.RequestInformation) -> None:
        self._validate("request_information", command)

    async def _do_request_information(
        self, command: cmd.RequestInformation
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        stage = self._ready_state().current
        clock_stops = self._ready_policy().clock_stops_for_information
        if clock_stops:
            stage.pauses.append(Pause(started_at=workflow.now(), request=command.request))
        return (
            Status.AWAITING_INFORMATION,
            {"request": command.request, "clock_stopped": clock_stops},
            [
                self._to_complainant(
                    "information_request",
                    request=command.request,
                    clock_stopped=clock_stops,
                    respond_by=stage.respond_by,
                )
            ],
        )

    @workflow.update(name="information_received")
    async def information_received(self, command: cmd.InformationReceived) -> ComplaintState:
        return await self._act("information_received", command, self._do_information_received)

    @information_received.validator
    def _validate_information_received(self, command: cmd.InformationReceived) -> None:
        self._validate("information_received", command)

    async def _do_information_received(
        self, command: cmd.InformationReceived
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        stage = self._ready_state().current
        detail: dict[str, Any] = {"summary": command.summary}
        open_pause = stage.pauses[-1] if stage.pauses and stage.pauses[-1].ended_at is None else None
        if open_pause is not None:
            resumed: ClockResumed = await workflow.execute_activity_method(
                DeadlineActivities.resume_clock,
                ResumeClock(
                    policy_id=self._ready_policy().id,
                    respond_by=stage.respond_by,
                    extension_limit_by=stage.extension_limit_by,
                    paused_at=open_pause.started_at,
                    resumed_at=workflow.now(),
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=ACTIVITY_RETRY,
            )
            open_pause.ended_at = workflow.now()
            open_pause.working_days_lost = resumed.working_days_lost
            stage.plan.respond = resumed.respond
            stage.plan.extension_limit = resumed.extension_limit
            stage.respond_by = resumed.respond.on
            stage.extension_limit_by = resumed.extension_limit.on if resumed.extension_limit else None
            self._clear_overdue_if_moved_later(stage)
            stage.ledger.append(
                LedgerEntry(
                    at=workflow.now(),
                    kind="clock_restarted",
                    respond_by=stage.respond_by,
                    working_days=resumed.working_days_lost,
                    reason="information received",
                )
            )
            detail.update(working_days_lost=resumed.working_days_lost, respond_by=stage.respond_by)
            if workflow.patched(PATCH_CLOCK_RESTART_LETTER):
                # The resident was told the date would move: they are told where it moved to.
                letter = self._to_complainant(
                    "clock_restarted",
                    respond_by=stage.respond_by,
                    working_days_lost=resumed.working_days_lost,
                )
                return Status.ACKNOWLEDGED, detail, [letter]
        return Status.ACKNOWLEDGED, detail, []

    @workflow.update(name="extend")
    async def extend(self, command: cmd.Extend) -> ComplaintState:
        return await self._act("extend", command, self._do_extend)

    @extend.validator
    def _validate_extend(self, command: cmd.Extend) -> None:
        self._validate("extend", command)

    async def _do_extend(self, command: cmd.Extend) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        stage = state.current
        due = await self._due(command.new_respond_by)
        before = stage.respond_by
        stage.plan.respond = due
        stage.respond_by = due.on
        stage.response_overdue = False
        stage.reminders_sent = [key for key in stage.reminders_sent if not key.startswith("respond")]
        stage.ledger.append(
            LedgerEntry(at=workflow.now(), kind="extended", respond_by=due.on, reason=command.reason)
        )
        policy = self._ready_policy()
        return (
            state.status,
            {"from": before, "to": due.on, "reason": command.reason},
            [
                self._to_complainant(
                    "extension",
                    reason=command.reason,
                    respond_by=due.on,
                    ombudsman=policy.ombudsman.signposting,
                )
            ],
        )

    @workflow.update(name="record_extension_agreement")
    async def record_extension_agreement(self, command: cmd.RecordExtensionAgreement) -> ComplaintState:
        return await self._act("record_extension_agreement", command, self._do_record_extension_agreement)

    @record_extension_agreement.validator
    def _validate_record_extension_agreement(self, command: cmd.RecordExtensionAgreement) -> None:
        self._validate("record_extension_agreement", command)

    async def _do_record_extension_agreement(
        self, command: cmd.RecordExtensionAgreement
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        agreed_to = command.up_to if command.agreed else None
        state.current.agreed_up_to = agreed_to
        state.current.ledger.append(
            LedgerEntry(
                at=workflow.now(),
                kind="agreement" if command.agreed else "agreement_refused",
                respond_by=state.current.respond_by,
                reason=f"complainant agreed to a response by {agreed_to}"
                if agreed_to
                else "complainant refused",
            )
        )
        return (
            state.status,
            {"agreed": command.agreed, "up_to": agreed_to},
            [
                self._staff_notice(
                    "extension_agreement", state.assigned_to, agreed=command.agreed, up_to=agreed_to
                )
            ],
        )

    @workflow.update(name="respond")
    async def respond(self, command: cmd.Respond) -> ComplaintState:
        return await self._act("respond", command, self._do_respond)

    @respond.validator
    def _validate_respond(self, command: cmd.Respond) -> None:
        self._validate("respond", command)

    async def _do_respond(self, command: cmd.Respond) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        policy = self._ready_policy()
        stage = state.current
        stage.responded_at = workflow.now()
        stage.responded_by = command.actor.id
        stage.outcome = command.outcome
        stage.findings = command.findings
        stage.remedies = list(command.remedies)
        for action in command.actions:
            due = await self._due(action.due_on, with_reminders=False)
            state.actions.append(
                action.model_copy(
                    update={"due_at": due.at, "completed_at": None, "completed_by": None, "overdue": False}
                )
            )
        window = await workflow.execute_activity_method(
            DeadlineActivities.escalation_window,
            EscalationWindow(policy_id=policy.id, stage=stage.number, responded_at=stage.responded_at),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )
        stage.escalation_request_by = window
        final = window is None
        if final:
            state.closure_reason = f"Stage {stage.number} response sent"
        template = "response" if stage.number == 1 else "stage2_response"
        open_pause = stage.pauses[-1] if stage.pauses and stage.pauses[-1].ended_at is None else None
        if open_pause is not None:
            open_pause.ended_at = stage.responded_at  # the response ends the wait for information
        # While the clock was stopped (before the due date) the response cannot be late.
        stopped_in_time = open_pause is not None and open_pause.started_at <= stage.plan.respond.at
        detail = {
            "outcome": command.outcome,
            "on_time": stage.responded_at <= stage.plan.respond.at or stopped_in_time,
            "escalation_request_by": window.on if window else None,
        }
        notice = self._to_complainant(
            template,
            outcome=command.outcome,
            findings=command.findings,
            remedies=[remedy.model_dump(mode="json") for remedy in command.remedies],
            actions=[action.model_dump(mode="json") for action in command.actions],
            escalation_request_by=window.on if window else None,
            ombudsman=policy.ombudsman.signposting,
        )
        return (Status.CLOSED if final else Status.RESPONDED), detail, [notice]

    @workflow.update(name="complete_action")
    async def complete_action(self, command: cmd.CompleteAction) -> ComplaintState:
        return await self._act("complete_action", command, self._do_complete_action)

    @complete_action.validator
    def _validate_complete_action(self, command: cmd.CompleteAction) -> None:
        self._validate("complete_action", command)

    async def _do_complete_action(
        self, command: cmd.CompleteAction
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        action = self._action(command.action_id)
        assert action is not None
        action.completed_at = workflow.now()
        action.completed_by = command.actor.id
        action.overdue = False
        return state.status, {"action_id": action.id, "note": command.note}, []

    # --------------------------------------------------------------------------------- escalation

    @workflow.update(name="request_escalation")
    async def request_escalation(self, command: cmd.RequestEscalation) -> ComplaintState:
        return await self._act("request_escalation", command, self._do_request_escalation)

    @request_escalation.validator
    def _validate_request_escalation(self, command: cmd.RequestEscalation) -> None:
        self._validate("request_escalation", command)

    async def _do_request_escalation(
        self, command: cmd.RequestEscalation
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        now = workflow.now()
        previous = state.current
        assert previous.escalation_request_by is not None
        late = now > previous.escalation_request_by.at
        plan = await self._plan(previous.number + 1, now)
        state.stages.append(
            StageState(
                number=previous.number + 1,
                received_at=now,
                plan=plan,
                respond_by=plan.respond.on,
                extension_limit_by=plan.extension_limit.on if plan.extension_limit else None,
                ledger=[LedgerEntry(at=now, kind="planned", respond_by=plan.respond.on)],
                request_reasons=command.reasons,
                outcome_wanted=command.outcome_wanted,
            )
        )
        state.stage = previous.number + 1
        state.assigned_to = None
        state.closure_reason = ""
        detail = {
            "reasons": command.reasons,
            "outcome_wanted": command.outcome_wanted,
            "late": late,
            "accepted_late_reason": command.accept_late_reason if late else None,
            "window_closed_on": previous.escalation_request_by.on,
        }
        notice = self._staff_notice(
            "escalation_requested",
            None,
            reasons=command.reasons,
            late=late,
            acknowledge_by=plan.acknowledge.on,
        )
        return Status.ESCALATION_REQUESTED, detail, [notice]

    @workflow.update(name="refuse_escalation")
    async def refuse_escalation(self, command: cmd.RefuseEscalation) -> ComplaintState:
        return await self._act("refuse_escalation", command, self._do_refuse_escalation)

    @refuse_escalation.validator
    def _validate_refuse_escalation(self, command: cmd.RefuseEscalation) -> None:
        self._validate("refuse_escalation", command)

    async def _do_refuse_escalation(
        self, command: cmd.RefuseEscalation
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        state.closure_reason = "Stage 2 refused"
        signposting = self._ready_policy().ombudsman.signposting
        return (
            Status.ESCALATION_REFUSED,
            {"reasons": command.reasons},
            [self._to_complainant("escalation_refused", reasons=command.reasons, ombudsman=signposting)],
        )

    @workflow.update(name="close")
    async def close(self, command: cmd.Close) -> ComplaintState:
        return await self._act("close", command, self._do_close)

    @close.validator
    def _validate_close(self, command: cmd.Close) -> None:
        self._validate("close", command)

    async def _do_close(self, command: cmd.Close) -> tuple[Status, dict[str, Any], list[Notification]]:
        self._ready_state().closure_reason = command.reason
        signposting = self._ready_policy().ombudsman.signposting
        return (
            Status.CLOSED,
            {"reason": command.reason},
            [self._to_complainant("closure", reason=command.reason, ombudsman=signposting)],
        )

    @workflow.update(name="withdraw")
    async def withdraw(self, command: cmd.Withdraw) -> ComplaintState:
        return await self._act("withdraw", command, self._do_withdraw)

    @withdraw.validator
    def _validate_withdraw(self, command: cmd.Withdraw) -> None:
        self._validate("withdraw", command)

    async def _do_withdraw(self, command: cmd.Withdraw) -> tuple[Status, dict[str, Any], list[Notification]]:
        self._ready_state().closure_reason = "withdrawn by the complainant"
        return (
            Status.WITHDRAWN,
            {"reason": command.reason},
            [self._to_complainant("withdrawal", reason=command.reason)],
        )

    # ------------------------------------------------------------------------- records and notes

    @workflow.update(name="add_information")
    async def add_information(self, command: cmd.AddInformation) -> ComplaintState:
        return await self._act("add_information", command, self._do_add_information)

    @add_information.validator
    def _validate_add_information(self, command: cmd.AddInformation) -> None:
        self._validate("add_information", command)

    async def _do_add_information(
        self, command: cmd.AddInformation
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        state.notes.append(
            {"at": workflow.now(), "by": command.actor.id, "kind": "information", "text": command.summary}
        )
        return (
            state.status,
            {"summary": command.summary},
            [self._staff_notice("new_information", state.assigned_to, summary=command.summary)],
        )

    @workflow.update(name="open_linked_complaint")
    async def open_linked_complaint(self, command: cmd.OpenLinkedComplaint) -> ComplaintState:
        return await self._act("open_linked_complaint", command, self._do_open_linked_complaint)

    @open_linked_complaint.validator
    def _validate_open_linked_complaint(self, command: cmd.OpenLinkedComplaint) -> None:
        self._validate("open_linked_complaint", command)

    async def _do_open_linked_complaint(
        self, command: cmd.OpenLinkedComplaint
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        """Start a new Stage 1 complaint for an unrelated issue, for the same complainant, linked to this one.
        It runs as its own workflow (abandoned by this one, so it outlives it)."""
        state = self._ready_state()
        now = workflow.now()
        reference: str = await workflow.execute_activity_method(
            RecordActivities.allocate_reference,
            AllocateReference(year=now.year),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )
        intake = state.intake.model_copy(
            update={
                "received_at": now,
                "summary": command.summary,
                "desired_outcome": command.desired_outcome,
                "service_area": command.service_area or state.intake.service_area,
                "staff_complained_about": [],
                "related_to": state.reference,
            }
        )
        await workflow.start_child_workflow(
            ComplaintWorkflow.run,
            OpenComplaint(reference=reference, intake=intake, opened_by=command.actor),
            id=workflow_id(reference),
            task_queue=workflow.info().task_queue,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        state.related_complaints.append(reference)
        return state.status, {"linked_reference": reference, "summary": command.summary}, []

    @workflow.update(name="add_note")
    async def add_note(self, command: cmd.AddNote) -> ComplaintState:
        return await self._act("add_note", command, self._do_add_note)

    @add_note.validator
    def _validate_add_note(self, command: cmd.AddNote) -> None:
        self._validate("add_note", command)

    async def _do_add_note(self, command: cmd.AddNote) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        state.notes.append(
            {"at": workflow.now(), "by": command.actor.id, "kind": "internal", "text": command.text}
        )
        return state.status, {"length": len(command.text)}, []

    @workflow.update(name="restrict_contact")
    async def restrict_contact(self, command: cmd.RestrictContact) -> ComplaintState:
        return await self._act("restrict_contact", command, self._do_restrict_contact)

    @restrict_contact.validator
    def _validate_restrict_contact(self, command: cmd.RestrictContact) -> None:
        self._validate("restrict_contact", command)

    async def _do_restrict_contact(
        self, command: cmd.RestrictContact
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        state.contact_restriction = {
            "reason": command.reason,
            "until": command.until.isoformat(),
            "review_on": command.review_on.isoformat(),
            "by": command.actor.id,
        }
        return (
            state.status,
            dict(state.contact_restriction),
            [
                self._to_complainant(
                    "contact_restriction",
                    until=command.until,
                    review_on=command.review_on,
                    reason=command.reason,
                )
            ],
        )

    @workflow.update(name="refer_to_ombudsman")
    async def refer_to_ombudsman(self, command: cmd.ReferToOmbudsman) -> ComplaintState:
        return await self._act("refer_to_ombudsman", command, self._do_refer_to_ombudsman)

    @refer_to_ombudsman.validator
    def _validate_refer_to_ombudsman(self, command: cmd.ReferToOmbudsman) -> None:
        self._validate("refer_to_ombudsman", command)

    async def _do_refer_to_ombudsman(
        self, command: cmd.ReferToOmbudsman
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        body = command.body or self._ready_policy().ombudsman.body.value
        state.ombudsman = {
            "body": body,
            "reference": command.ombudsman_reference,
            "referred_at": workflow.now(),
        }
        return state.status, {"body": body, "reference": command.ombudsman_reference}, []

    @workflow.update(name="record_ombudsman_decision")
    async def record_ombudsman_decision(self, command: cmd.RecordOmbudsmanDecision) -> ComplaintState:
        return await self._act("record_ombudsman_decision", command, self._do_record_ombudsman_decision)

    @record_ombudsman_decision.validator
    def _validate_record_ombudsman_decision(self, command: cmd.RecordOmbudsmanDecision) -> None:
        self._validate("record_ombudsman_decision", command)

    async def _do_record_ombudsman_decision(
        self, command: cmd.RecordOmbudsmanDecision
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        state = self._ready_state()
        state.ombudsman.update(decision=command.decision, remedy=command.remedy, decided_at=workflow.now())
        return state.status, {"decision": command.decision, "remedy": command.remedy}, []

    @workflow.update(name="recalculate_deadlines")
    async def recalculate_deadlines(self, command: cmd.RecalculateDeadlines) -> ComplaintState:
        return await self._act("recalculate_deadlines", command, self._do_recalculate)

    @recalculate_deadlines.validator
    def _validate_recalculate_deadlines(self, command: cmd.RecalculateDeadlines) -> None:
        self._validate("recalculate_deadlines", command)

    async def _do_recalculate(
        self, command: cmd.RecalculateDeadlines
    ) -> tuple[Status, dict[str, Any], list[Notification]]:
        """Apply today's holiday data to this stage. An extension date agreed in writing stands; the planned
        dates move, and so do the working days the clock was stopped."""
        state = self._ready_state()
        stage = state.current
        before = {"acknowledge_by": stage.plan.acknowledge.on, "respond_by": stage.respond_by}
        plan = await self._plan(stage.number, stage.received_at, stage.acknowledged_at)
        extended = any(entry.kind == "extended" for entry in stage.ledger)
        stage.plan.deadlines = plan.deadlines
        stage.plan.acknowledge = plan.acknowledge
        if not extended:
            respond = plan.respond
            limit = plan.extension_limit
            lost = sum(pause.working_days_lost for pause in stage.pauses)
            if lost:
                respond = await self._due(await self._shift(respond.on, lost))
                if limit is not None:
                    limit = await self._due(await self._shift(limit.on, lost), with_reminders=False)
            stage.plan.respond = respond
            stage.plan.extension_limit = limit
            stage.respond_by = respond.on
            stage.extension_limit_by = limit.on if limit else None
        self._clear_overdue_if_moved_later(stage)
        stage.ledger.append(
            LedgerEntry(
                at=workflow.now(), kind="recalculated", respond_by=stage.respond_by, reason=command.reason
            )
        )
        after = {"acknowledge_by": stage.plan.acknowledge.on, "respond_by": stage.respond_by}
        return state.status, {"before": before, "after": after, "reason": command.reason}, []

    # ------------------------------------------------------------------------------- validation

    def _validate(self, action: str, command: cmd.Command) -> None:
        """Raise TransitionRefused (a ValueError) when the action is not possible now; reads state only."""
        state = self._state
        policy = self._policy
        if state is None or policy is None:
            return  # still opening: the handler waits for the state, then checks again
        if command.expected_seq is not None and command.expected_seq != state.seq:
            raise StaleState("the complaint changed since you read it: reload and try again")
        actor = command.actor
        if actor.role is not Role.RESIDENT and actor.id in state.intake.staff_complained_about:
            raise TransitionRefused("this complaint is about you: it must be handled by someone else")
        status = state.status
        if action == "request_escalation" and status is Status.CLOSED:
            self._check_late_after_closure(command)
        else:
            check(action, status)
        validator = getattr(self, f"_check_{action}", None)
        if validator is not None:
            validator(command)

    def _check_late_after_closure(self, command: cmd.Command) -> None:
        state = self._ready_state()
        stage = state.current
        window = stage.escalation_request_by
        if window is None or state.closure_reason != "escalation window closed":
            raise TransitionRefused(f"cannot request escalation of a complaint that is {state.status}")
        assert isinstance(command, cmd.RequestEscalation)
        if not command.accept_late_reason:
            raise TransitionRefused(
                f"the window to ask for Stage {stage.number + 1} closed on {window.on.isoformat()}"
            )

    def _check_decline(self, command: cmd.Command) -> None:
        assert isinstance(command, cmd.Decline)
        policy = self._ready_policy()
        if policy.exclusion(command.exclusion_code) is None:
            codes = ", ".join(exclusion.code for exclusion in policy.exclusions)
            raise TransitionRefused(f"unknown exclusion category {command.exclusion_code!r}; known: {codes}")

    def _check_assign(self, command: cmd.Command) -> None:
        assert isinstance(command, cmd.Assign)
        state = self._ready_state()
        if command.assignee in state.intake.staff_complained_about:
            raise TransitionRefused(f"{command.assignee} is named in the complaint and cannot be assigned it")
        if state.intake.handled_by_senior and command.assignee_role not in SENIOR_ROLES:
            raise TransitionRefused(
                "this complaint is about an investigating officer: assign it to a manager"
            )
        self._check_independent(command.assignee)

    def _check_independent(self, person: str) -> None:
        """Stage 2 is answered by someone independent of Stage 1."""
        state = self._ready_state()
        if state.stage < 2:
            return
        earlier = state.stage_state(state.stage - 1)
        handled_earlier = {
            str(transition.detail.get("to"))
            for transition in state.history
            if transition.action == "assign" and transition.stage == state.stage - 1
        }
        if earlier is not None and person in {earlier.assigned_to, earlier.responded_by} | handled_earlier:
            raise TransitionRefused(
                f"{person} handled Stage {earlier.number}; Stage {state.stage} needs someone independent"
            )

    def _check_extend(self, command: cmd.Command) -> None:
        assert isinstance(command, cmd.Extend)
        stage = self._ready_state().current
        if command.new_respond_by <= stage.respond_by:
            raise TransitionRefused(
                f"the new response date must be after the current one ({stage.respond_by.isoformat()})"
            )
        limit = stage.extension_limit_by
        if limit is not None and command.new_respond_by > limit:
            agreed = stage.agreed_up_to
            if agreed is None or command.new_respond_by > agreed:
                raise TransitionRefused(
                    f"beyond {limit.isoformat()} (the policy's extension limit) the complainant's recorded"
                    " agreement is needed"
                )

    def _check_record_extension_agreement(self, command: cmd.Command) -> None:
        assert isinstance(command, cmd.RecordExtensionAgreement)
        if command.agreed and command.up_to is None:
            raise TransitionRefused("an agreement needs the date the complainant agreed to")

    def _check_respond(self, command: cmd.Command) -> None:
        assert isinstance(command, cmd.Respond)
        if self._ready_state().intake.handled_by_senior and command.actor.role not in SENIOR_ROLES:
            raise TransitionRefused(
                "this complaint is about an investigating officer: a manager must answer it"
            )
        self._check_independent(command.actor.id)
        ids = [action.id for action in command.actions]
        if len(ids) != len(set(ids)) or any(self._action(action_id) for action_id in ids):
            raise TransitionRefused("action ids must be unique within the complaint")

    def _check_complete_action(self, command: cmd.Command) -> None:
        assert isinstance(command, cmd.CompleteAction)
        action = self._action(command.action_id)
        if action is None:
            raise TransitionRefused(f"no action {command.action_id!r} on this complaint")
        if action.completed_at is not None:
            raise TransitionRefused(f"action {command.action_id!r} was already completed")

    def _check_request_escalation(self, command: cmd.Command) -> None:
        assert isinstance(command, cmd.RequestEscalation)
        state = self._ready_state()
        stage = state.current
        window = stage.escalation_request_by
        if window is None:
            raise TransitionRefused(f"Stage {stage.number} is the last stage of this policy")
        late = workflow.now() > window.at
        if late and not command.accept_late_reason:
            raise TransitionRefused(
                f"the window to ask for Stage {stage.number + 1} closed on {window.on.isoformat()}"
            )
        if late and command.actor.role not in STAFF_ROLES:
            raise TransitionRefused("only an officer can accept a late escalation request")
        if late and not self._ready_policy().stage(stage.number).late_escalation_at_discretion:
            raise TransitionRefused("this policy does not accept late escalation requests")

    def _check_restrict_contact(self, command: cmd.Command) -> None:
        assert isinstance(command, cmd.RestrictContact)
        if command.review_on > command.until:
            raise TransitionRefused("the review date must be on or before the end of the restriction")

    # ------------------------------------------------------------------------------- machinery

    async def _act(
        self,
        action: str,
        command: Any,
        apply: Callable[[Any], Awaitable[tuple[Status, dict[str, Any], list[Notification]]]],
    ) -> ComplaintState:
        await workflow.wait_condition(lambda: self._opened)
        async with self._lock:
            try:
                self._validate(action, command)
            except TransitionRefused as refused:
                raise _refuse(str(refused), type(refused).__name__) from None
            # If the change cannot be computed or recorded, the complaint stays exactly as it was.
            before = self._ready_state().model_copy(deep=True)
            try:
                to_status, detail, notifications = await apply(command)
                transition = self._transition(action, command.actor, to_status, detail)
                await self._record(transition, notifications)
            except ActivityError as error:
                self._state = before
                reason = error.cause.message if isinstance(error.cause, ApplicationError) else str(error)
                raise _refuse(f"this action could not be recorded: {reason}", "Unrecordable") from None
            self._rearm = True
            return self._ready_state()

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
        if workflow.patched(PATCH_RETIRE_PAST_REMINDERS):
            self._retire_past_reminders(state.current)
        self._refresh_flags()
        return transition

    @staticmethod
    def _clear_overdue_if_moved_later(stage: StageState) -> None:
        """A due date that moved past now is not overdue any more: its timer is armed again."""
        if not workflow.patched(PATCH_CLEAR_OVERDUE_WHEN_MOVED):
            return
        now = workflow.now()
        if stage.response_overdue and stage.plan.respond.at > now:
            stage.response_overdue = False
        if (
            stage.acknowledgement_overdue
            and stage.acknowledged_at is None
            and stage.plan.acknowledge.at > now
        ):
            stage.acknowledgement_overdue = False

    @staticmethod
    def _retire_past_reminders(stage: StageState) -> None:
        """A reminder whose time has passed is not sent late: when a date moves (extension, clock restart,
        acknowledgement) or a complaint is logged days after receipt, staff get the reminders still ahead,
        not a burst of stale ones."""
        now = workflow.now()
        for name, due in (("acknowledge", stage.plan.acknowledge), ("respond", stage.plan.respond)):
            for at in due.reminders:
                key = f"{name}:{at.isoformat()}"
                if at <= now and key not in stage.reminders_sent:
                    stage.reminders_sent.append(key)

    async def _record(self, transition: Transition, notifications: list[Notification]) -> None:
        state = self._ready_state()
        # Anonymous complainants get no letters: nothing addressed to nobody is queued.
        queued = [notice for notice in notifications if notice.recipient or notice.audience != "complainant"]
        await workflow.execute_activity_method(
            RecordActivities.record_event,
            RecordEvent(
                workflow_id=workflow.info().workflow_id,
                created_by=self._start.opened_by.id,
                # The transitions are recorded one by one; sending the whole history with every event would
                # make the workflow's own history grow with the square of its length.
                state=state.model_copy(update={"history": []}),
                transition=transition,
                notifications=queued,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )
        self._upsert_search_attributes()
        if queued and workflow.patched(PATCH_DELIVER_NOTIFICATIONS):
            self._to_deliver.append(state.seq)

    async def _plan(
        self, stage: int, received_at: datetime, acknowledged_at: datetime | None = None
    ) -> StagePlan:
        return await workflow.execute_activity_method(
            DeadlineActivities.plan_stage,
            PlanStage(
                policy_id=self._start.intake.policy_id,
                stage=stage,
                received_at=received_at,
                acknowledged_at=acknowledged_at,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )

    async def _due(self, on: date, *, with_reminders: bool = True) -> Due:
        return await workflow.execute_activity_method(
            DeadlineActivities.due_on,
            DueOn(policy_id=self._start.intake.policy_id, on=on, with_reminders=with_reminders),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )

    async def _shift(self, on: date, working_days: int) -> date:
        return await workflow.execute_activity_method(
            DeadlineActivities.shift_working_days,
            ShiftWorkingDays(policy_id=self._start.intake.policy_id, on=on, working_days=working_days),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )

    def _ready_state(self) -> ComplaintState:
        if self._state is None:
            raise _refuse("the complaint is still being opened; try again in a moment")
        return self._state

    def _ready_policy(self) -> Policy:
        if self._policy is None:
            raise _refuse("the complaint is still being opened; try again in a moment")
        return self._policy

    def _action(self, action_id: str) -> ActionItem | None:
        return next((action for action in self._ready_state().actions if action.id == action_id), None)

    # ---------------------------------------------------------------------------------- timers

    def _clock_running(self) -> bool:
        state = self._ready_state()
        if state.status is Status.AWAITING_INFORMATION:
            return not self._ready_policy().clock_stops_for_information
        return state.status in (Status.RECEIVED, Status.ACKNOWLEDGED, Status.ESCALATION_REQUESTED)

    def _deadline_timers(self) -> list[tuple[datetime, Callable[[], Awaitable[None]]]]:
        """Every timer the complaint is waiting on now, derived from state (so a moved date re-arms)."""
        state = self._ready_state()
        stage = state.current
        timers: list[tuple[datetime, Callable[[], Awaitable[None]]]] = []
        awaiting_ack = state.status in (Status.RECEIVED, Status.ESCALATION_REQUESTED)
        if awaiting_ack:
            timers += self._reminder_timers("acknowledge", stage.plan.acknowledge, stage)
            if not stage.acknowledgement_overdue:
                timers.append((stage.plan.acknowledge.at, self._acknowledgement_overdue))
        if self._clock_running():
            timers += self._reminder_timers("respond", stage.plan.respond, stage)
            if not stage.response_overdue:
                timers.append((stage.plan.respond.at, self._response_overdue))
            limit = stage.plan.extension_limit
            if limit is not None and not stage.extension_limit_passed and limit.at > stage.plan.respond.at:
                if workflow.patched(PATCH_EXTENSION_LIMIT_TIMER):
                    timers.append((limit.at, self._extension_limit_passed))
        if state.status is Status.RESPONDED and stage.escalation_request_by is not None:
            timers.append((stage.escalation_request_by.at, self._escalation_window_closed))
        for action in state.actions:
            if action.completed_at is None and not action.overdue and action.due_at is not None:
                timers.append((action.due_at, self._make_action_overdue(action.id)))
        return timers

    def _reminder_timers(
        self, name: str, due: Due, stage: StageState
    ) -> list[tuple[datetime, Callable[[], Awaitable[None]]]]:
        return [
            (at, self._make_reminder(name, key, due))
            for at in due.reminders
            if (key := f"{name}:{at.isoformat()}") not in stage.reminders_sent
            and stage.received_at < at < due.at
        ]

    def _next_timer(self) -> tuple[datetime, Callable[[], Awaitable[None]]] | None:
        state = self._ready_state()
        timers = self._deadline_timers()
        if state.status in FINAL_STATUSES and not any(
            action.completed_at is None for action in state.actions
        ):
            final_at = state.history[-1].at if state.history else workflow.now()
            timers.append((final_at + POST_CLOSURE, self._end_of_life))
        return min(timers, key=lambda timer: timer[0]) if timers else None

    async def _end_of_life(self) -> None:
        self._done = True

    def _make_reminder(self, name: str, key: str, due: Due) -> Callable[[], Awaitable[None]]:
        async def fire() -> None:
            state = self._ready_state()
            state.current.reminders_sent.append(key)
            recipient = state.assigned_to
            notice = self._staff_notice(f"reminder_{name}", recipient, due_on=due.on)
            await self._record(
                self._transition(f"reminder_{name}", _system(), state.status, {"due": due.on}), [notice]
            )

        return fire

    async def _acknowledgement_overdue(self) -> None:
        state = self._ready_state()
        state.current.acknowledgement_overdue = True
        due = state.current.plan.acknowledge.on
        transition = self._transition("acknowledgement_overdue", _system(), state.status, {"due": due})
        await self._record(transition, [self._manager_alert("acknowledgement", due)])

    async def _response_overdue(self) -> None:
        state = self._ready_state()
        policy = self._ready_policy()
        state.current.response_overdue = True
        due = state.current.respond_by
        notices = [self._manager_alert("response", due)]
        if policy.ombudsman.early_referral_when_deadline_missed:
            notices.append(
                self._to_complainant("response_late", due=due, ombudsman=policy.ombudsman.signposting)
            )
        transition = self._transition("response_overdue", _system(), state.status, {"due": due})
        await self._record(transition, notices)

    async def _extension_limit_passed(self) -> None:
        """Still no response when even an extension without agreement would have run out: the manager is
        told, and the complainant is told they may go to the ombudsman now."""
        state = self._ready_state()
        policy = self._ready_policy()
        stage = state.current
        stage.extension_limit_passed = True
        limit = stage.plan.extension_limit.on if stage.plan.extension_limit else None
        transition = self._transition("extension_limit_passed", _system(), state.status, {"limit": limit})
        await self._record(
            transition,
            [self._manager_alert("extension_limit", limit)]
            + (
                # Only where the policy lets the complainant go to the ombudsman before its process ends.
                [
                    self._to_complainant(
                        "ombudsman_available", due=stage.respond_by, ombudsman=policy.ombudsman.signposting
                    )
                ]
                if policy.ombudsman.early_referral_when_deadline_missed
                else []
            ),
        )

    async def _escalation_window_closed(self) -> None:
        state = self._ready_state()
        window = state.current.escalation_request_by
        state.closure_reason = "escalation window closed"
        signposting = self._ready_policy().ombudsman.signposting
        transition = self._transition(
            "escalation_window_closed",
            _system(),
            Status.CLOSED,
            {"window_closed_on": window.on if window else None},
        )
        await self._record(
            transition, [self._to_complainant("closure", reason=state.closure_reason, ombudsman=signposting)]
        )

    def _make_action_overdue(self, action_id: str) -> Callable[[], Awaitable[None]]:
        async def fire() -> None:
            state = self._ready_state()
            action = self._action(action_id)
            assert action is not None
            action.overdue = True
            transition = self._transition("action_overdue", _system(), state.status, {"action_id": action_id})
            await self._record(
                transition,
                [
                    self._staff_notice(
                        "action_overdue",
                        action.owner,
                        action_id=action_id,
                        due_on=action.due_on,
                        description=action.description,
                    ),
                    self._manager_alert("action", action.due_on, action_id=action_id),
                ],
            )

        return fire

    def _refresh_flags(self) -> None:
        """Overdue is a flag, not an end: it is true while something the council owes is late."""
        state = self._ready_state()
        stage = state.current
        late_ack = stage.acknowledgement_overdue and state.status in (
            Status.RECEIVED,
            Status.ESCALATION_REQUESTED,
        )
        late_response = (
            stage.response_overdue and state.status not in FINAL_STATUSES and stage.responded_at is None
        )
        late_action = any(action.overdue and action.completed_at is None for action in state.actions)
        state.overdue = late_ack or late_response or late_action
        state.next_deadline = self._next_deadline()

    def _next_deadline(self) -> datetime | None:
        """The next date the council owes something by (shown in the Temporal UI as NextDeadline)."""
        state = self._ready_state()
        stage = state.current
        if state.status in (Status.RECEIVED, Status.ESCALATION_REQUESTED):
            return min(stage.plan.acknowledge.at, stage.plan.respond.at)
        if self._clock_running():
            return stage.plan.respond.at
        if state.status is Status.RESPONDED and stage.escalation_request_by is not None:
            return stage.escalation_request_by.at
        return None

    def _upsert_search_attributes(self) -> None:
        state = self._ready_state()
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

    # ----------------------------------------------------------------------------- notifications

    def _to_complainant(self, template: str, **context: Any) -> Notification:
        """A letter or email to the complainant, or to their representative when consent is on file.
        Anonymous complainants get none (the recipient stays empty and nothing is queued)."""
        state = self._ready_state()
        intake = state.intake
        recipient: str | None = None
        if not intake.anonymous:
            representative = intake.representative
            if representative is not None and representative.consent_recorded:
                recipient = representative.email or representative.name
            else:
                person = intake.complainant
                recipient = str(person.email) if person.email else person.address or person.phone
        stage = state.current
        base = {
            "reference": state.reference,
            "stage": stage.number,
            "summary": intake.summary,
            "desired_outcome": intake.desired_outcome,
            "policy": self._ready_policy().name,
        }
        return Notification(
            template=template, audience="complainant", recipient=recipient, context=base | context
        )

    def _staff_notice(self, template: str, recipient: str | None, **context: Any) -> Notification:
        state = self._ready_state()
        return Notification(
            template=template,
            audience="staff",
            recipient=recipient or "complaints-team",
            context={"reference": state.reference, "stage": state.stage} | context,
        )

    def _manager_alert(self, what: str, due: Any, **context: Any) -> Notification:
        state = self._ready_state()
        return Notification(
            template="overdue_alert",
            audience="manager",
            recipient="complaints-manager",
            context={"reference": state.reference, "stage": state.stage, "what": what, "due": due} | context,
        )


def _system() -> Actor:
    return Actor(id="system", role=Role.SYSTEM, name="Complaints service")
