"""Record workflow histories for the replay tests: `python -m tests.record_histories`.

One history per path of the workflow (Stage 1, Stage 2, decline, signals, casework, response approval,
asking for an extension agreement, a representative's consent recorded, continue-as-new and the operator's
move to the current code: both runs of each). `python -m tests.record_histories NAME ...` records only
those paths. They were recorded afresh for the first
release (code version in workflows/complaint/version.py). Run it when a new workflow behaviour ships (after
guarding the change with `workflow.patched`, see docs/upgrading.md) into a new file name, and keep the old
files: every history in tests/histories/ must keep replaying against the current code until
`deprecate_patch` removes the branch it needs.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.search_attributes import SEARCH_ATTRIBUTE_TYPES
from core.settings import REPO_ROOT
from core.temporal import history_converter
from devstack.servers import register_search_attributes, start_postgres, test_server_binary
from domain import commands as cmd
from domain.models import ActionItem, ComplaintState, Learning, Outcome, Representative, ResidentChannel
from domain.policy_files import load_policies
from store.db import create_pool, migrate
from tests.factories import (
    INVESTIGATOR,
    MANAGER,
    OFFICER,
    RESIDENT,
    REVIEWER,
    act,
    intake,
    open_complaint,
    running_worker,
    start_in_quiet_week,
    state_of,
)
from workflows.complaint import ComplaintWorkflow

HISTORIES = Path(__file__).parent / "histories"
Handle = WorkflowHandle[ComplaintWorkflow, ComplaintState]


async def two_stages(env: WorkflowEnvironment, handle: Handle) -> None:
    await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    await act(handle, "request_information", cmd.RequestInformation(actor=INVESTIGATOR, request="Photos"))
    await env.sleep(timedelta(days=3))
    await act(handle, "information_received", cmd.InformationReceived(actor=INVESTIGATOR, summary="Photos"))
    state = await act(
        handle,
        "record_extension_agreement",
        cmd.RecordExtensionAgreement(actor=OFFICER, agreed=True, up_to=date.today() + timedelta(days=400)),
    )
    await act(
        handle,
        "extend",
        cmd.Extend(
            actor=INVESTIGATOR,
            new_respond_by=state.current.respond_by + timedelta(days=7),
            reason="Contractor survey",
        ),
    )
    await env.sleep(timedelta(days=10))
    await act(
        handle,
        "respond",
        cmd.Respond(
            actor=INVESTIGATOR,
            outcome=Outcome.PARTIALLY_UPHELD,
            findings="Late repair",
            actions=[
                ActionItem(id="fix", description="Fix the damp", owner="repairs", due_on=date(2099, 1, 1))
            ],
        ),
    )
    await act(handle, "request_escalation", cmd.RequestEscalation(actor=RESIDENT, reasons="Still damp"))
    await act(handle, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
    await env.sleep(timedelta(days=40))  # Stage 2 response overdue: flagged, manager alerted
    await act(
        handle, "respond", cmd.Respond(actor=REVIEWER, outcome=Outcome.UPHELD, findings="Survey needed")
    )
    await act(handle, "complete_action", cmd.CompleteAction(actor=OFFICER, action_id="fix"))


async def declined(env: WorkflowEnvironment, handle: Handle) -> None:
    await act(
        handle,
        "decline",
        cmd.Decline(
            actor=OFFICER, exclusion_code="service-request", reason="A missed bin: reported to the service"
        ),
    )


async def window_closes_then_late_escalation(env: WorkflowEnvironment, handle: Handle) -> None:
    await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await act(
        handle, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault")
    )
    await env.sleep(timedelta(days=40))
    await act(
        handle,
        "request_escalation",
        cmd.RequestEscalation(actor=OFFICER, reasons="Was in hospital", accept_late_reason="Medical reasons"),
    )
    await act(handle, "withdraw", cmd.Withdraw(actor=RESIDENT, reason="Resolved informally"))


async def signals_from_inbound_channels(env: WorkflowEnvironment, handle: Handle) -> None:
    await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await handle.signal(
        "new_information", cmd.NewInformationSignal(text="Photos of the damp", channel="email")
    )
    # Too early for Stage 2: refused by the rules, recorded, and staff told.
    await handle.signal(
        "escalation_request", cmd.EscalationRequestSignal(reasons="Not happy", channel="email")
    )
    await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    await act(handle, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Fixed"))
    # council-004 needs to know what is disagreed with and the further action wanted (issue 24).
    letter = cmd.EscalationRequestSignal(
        channel="letter", reasons="Still leaking", outcome_wanted="A new roof"
    )
    await handle.signal("escalation_request", letter)
    await act(handle, "acknowledge", cmd.Acknowledge(actor=REVIEWER))
    await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=REVIEWER.id))
    await act(handle, "respond", cmd.Respond(actor=REVIEWER, outcome=Outcome.UPHELD, findings="Agreed"))


async def stage_1_only(env: WorkflowEnvironment, handle: Handle) -> None:
    """Stage 1 to its end: acknowledged, assigned, answered, and closed when the window for Stage 2 passes."""
    await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    await act(handle, "add_note", cmd.AddNote(actor=INVESTIGATOR, text="Visited the flat."))
    await act(
        handle, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Late repair")
    )
    await env.sleep(timedelta(days=40))  # the window for Stage 2 closes: closed


async def continued_as_new(env: WorkflowEnvironment, handle: Handle) -> None:
    """Enough notes and messages to continue as new (after CONTINUE_AFTER events), then a timer that fires
    in the new run."""
    await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    for number in range(8):
        await act(
            handle, "add_note", cmd.AddNote(actor=INVESTIGATOR, text=f"Called the resident ({number}).")
        )
        await handle.signal("new_information", cmd.NewInformationSignal(text=f"Message {number}"))
    await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    await env.sleep(timedelta(days=30))  # the response goes overdue in the continued run


CONTINUE_AFTER = 40


async def moved_to_current_code(env: WorkflowEnvironment, handle: Handle) -> None:
    """An operator's `complaints move-to-current-code` (docs/upgrading.md): the signal, the continue-as-new at
    a safe point, then an action and a timer in the new run."""
    await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await handle.signal("move_to_current_code")
    first = env.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    for _ in range(600):
        history = await first.fetch_history()
        if any(
            event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
            for event in history.events
        ):
            break
        await asyncio.sleep(0.05)
    await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    await env.sleep(timedelta(days=30))  # the response goes overdue in the new run


async def casework(env: WorkflowEnvironment, handle: Handle) -> None:
    """Issue 16's paths: an agreed cadence of progress updates, a contact restriction reviewed and lifted,
    learning with improvements in the response, and the letter when an improvement is done."""
    await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    state = await act(
        handle,
        "extend",
        cmd.Extend(
            actor=INVESTIGATOR,
            new_respond_by=(await state_of(handle)).current.respond_by + timedelta(days=7),
            reason="Contractor survey",
            update_every_working_days=3,
        ),
    )
    await env.sleep(timedelta(days=6))  # a progress update falls due
    await act(
        handle,
        "restrict_contact",
        cmd.RestrictContact(
            actor=MANAGER,
            reason="Abusive calls",
            until=state.current.respond_by + timedelta(days=90),
            review_on=state.current.respond_by + timedelta(days=20),
            channels=[ResidentChannel.MESSAGES],
        ),
    )
    improvement = ActionItem(
        id="surveys", description="Date every survey", owner="repairs", due_on=date(2099, 1, 1)
    )
    await act(
        handle,
        "respond",
        cmd.Respond(
            actor=INVESTIGATOR,
            outcome=Outcome.UPHELD,
            findings="Late survey",
            learning=Learning(
                root_cause="contractor", lessons="Surveys had no dates", improvements=[improvement]
            ),
        ),
    )
    await env.sleep(timedelta(days=40))  # the restriction's review falls due
    await act(
        handle, "lift_contact_restriction", cmd.LiftContactRestriction(actor=MANAGER, reason="Reviewed")
    )
    await act(handle, "complete_action", cmd.CompleteAction(actor=OFFICER, action_id="surveys"))


async def response_approval(env: WorkflowEnvironment, handle: Handle) -> None:
    """Issue 25 (policy `response_approval`): the investigator's response waits as a draft, a manager
    returns it with a reason, the redrafted response is approved and sent, and the window for Stage 2
    closes."""
    await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    first = {"outcome": Outcome.UPHELD, "findings": "Late repair"}
    await act(handle, "respond", cmd.Respond(actor=INVESTIGATOR, **first))
    await act(handle, "return_response", cmd.ReturnResponse(actor=MANAGER, reason="Say what the remedy is"))
    second = {"outcome": Outcome.UPHELD, "findings": "Late repair; we will pay for the furniture"}
    state = await act(handle, "respond", cmd.Respond(actor=INVESTIGATOR, **second))
    # As api.casework fills it in: the draft as recorded, and the sequence of its event.
    redrafted = cmd.Respond(actor=INVESTIGATOR, **second)
    draft = redrafted.model_dump(mode="json", exclude={"actor", "expected_seq"})
    await act(
        handle,
        "approve_response",
        cmd.ApproveResponse(actor=MANAGER, draft=draft, draft_seq=state.current.draft_response_seq),
    )
    await env.sleep(timedelta(days=40))  # the window for Stage 2 closes: closed


async def extension_agreement_asked(env: WorkflowEnvironment, handle: Handle) -> None:
    """The council asks the complainant to agree to a later response (`ask_extension_agreement`), the answer
    is recorded, the response is extended within it, and the response goes overdue."""
    await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    state = await act(handle, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    up_to = state.current.respond_by + timedelta(days=21)
    await act(
        handle,
        "ask_extension_agreement",
        cmd.AskExtensionAgreement(actor=INVESTIGATOR, up_to=up_to, reason="The survey is booked late"),
    )
    await env.sleep(timedelta(days=2))
    await act(
        handle,
        "record_extension_agreement",
        cmd.RecordExtensionAgreement(actor=OFFICER, agreed=True, up_to=up_to),
    )
    await act(
        handle,
        "extend",
        cmd.Extend(actor=INVESTIGATOR, new_respond_by=up_to, reason="The survey is booked late"),
    )
    await env.sleep(timedelta(days=40))  # the extended response goes overdue


async def representative_consent(env: WorkflowEnvironment, handle: Handle) -> None:
    """A representative named without consent on file: written consent arrives and is recorded (the
    consent-recorded letter), then the complaint is acknowledged and answered."""
    received_on = (await state_of(handle)).intake.received_at.date()
    await act(
        handle,
        "record_representative_consent",
        cmd.RecordRepresentativeConsent(actor=OFFICER, consent_kind="written", received_on=received_on),
    )
    await act(handle, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await act(handle, "respond", cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.UPHELD, findings="Fixed"))


# The policy a path needs beyond its council's file (issue 25's approval is a policy field no shipped file
# sets yet).
POLICY_CHANGES: dict[str, dict[str, object]] = {"bexley-response-approval": {"response_approval": True}}
# The intake a path needs beyond the factories' default.
INTAKE_CHANGES: dict[str, dict[str, object]] = {
    "bexley-representative-consent": {
        "representative": Representative(
            name="Sam Helper", relationship="son", email="sam@example.org", consent_recorded=False
        )
    }
}

SCENARIOS: dict[str, tuple[str, Callable[[WorkflowEnvironment, Handle], Awaitable[None]]]] = {
    "bexley-two-stages": ("bexley", two_stages),
    "westminster-declined": ("westminster", declined),
    "barking-window-closes-late-escalation": ("barking-dagenham", window_closes_then_late_escalation),
    "council-004-signals": ("council-004", signals_from_inbound_channels),
    "council-003-casework": ("council-003", casework),
    "code-stage-1": ("complaint-handling-code", stage_1_only),
    "bexley-continued-as-new": ("bexley", continued_as_new),
    "bexley-moved-to-current-code": ("bexley", moved_to_current_code),
    "bexley-response-approval": ("bexley", response_approval),
    "bexley-extension-agreement-asked": ("bexley", extension_agreement_asked),
    "bexley-representative-consent": ("bexley", representative_consent),
}
# The paths whose workflow continues as new: both runs are recorded.
TWO_RUNS = (continued_as_new, moved_to_current_code)


async def record(folder: Path = HISTORIES, only: set[str] | None = None) -> list[Path]:
    """Record every path (or those named in `only`) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    pg_dir = Path(tempfile.mkdtemp(prefix="record-histories-"))
    server = start_postgres(pg_dir, keep_data=False)
    written: list[Path] = []
    try:
        pool: asyncpg.Pool = await create_pool(str(server.get_uri()))
        await migrate(pool)
        policies = load_policies(REPO_ROOT / "policies")
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=history_converter(), test_server_existing_path=test_server_binary()
        )
        try:
            await register_search_attributes(env.client, SEARCH_ATTRIBUTE_TYPES)
            async with running_worker(env, pool, policies, "record-histories"):
                for name, (policy_id, scenario) in SCENARIOS.items():
                    if only is not None and name not in only:
                        continue
                    received = await start_in_quiet_week(env)
                    # As the API opens a complaint: its policy frozen into the start.
                    policy = policies[policy_id].model_copy(update=POLICY_CHANGES.get(name, {}))
                    handle = await open_complaint(
                        env,
                        "record-histories",
                        intake(policy_id, received, **INTAKE_CHANGES.get(name, {})),
                        name.upper(),
                        policy,
                        continue_as_new_after_events=CONTINUE_AFTER if scenario is continued_as_new else None,
                    )
                    await scenario(env, handle)
                    runs = [env.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)]
                    if scenario in TWO_RUNS:
                        runs.append(env.client.get_workflow_handle(handle.id))  # the run it continued as
                    for index, run in enumerate(runs):
                        history = await run.fetch_history()
                        path = folder / (f"{name}.json" if index == 0 else f"{name}.continued.json")
                        path.write_text(history.to_json())
                        written.append(path)
        finally:
            await env.shutdown()
            await pool.close()
    finally:
        server.cleanup()
        shutil.rmtree(pg_dir, ignore_errors=True)
    return written


if __name__ == "__main__":
    import sys

    only = set(sys.argv[1:])
    for path in asyncio.run(record(only=only or None)):
        print(f"wrote {path}")  # noqa: T201
