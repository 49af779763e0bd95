"""The rules: whether an action may happen now, as pure functions of (state, policy, command, now).

Each returns None when the action is allowed, or a refusal with a reason a resident or an officer can read.
The workflow runs them in the update validator (before anything is written to history) and again in the
handler, under the lock (the state may have moved in between); they are tested without Temporal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import commands as cmd
from domain.models import ComplaintState, Role, Status
from domain.ombudsman_decisions import body_of
from domain.ombudsman_decisions import refusal as determination_refusal
from domain.policy import EscalationNeed, Independence, Policy

SENIOR_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
STAFF_ROLES = frozenset(
    {Role.COMPLAINTS_OFFICER, Role.INVESTIGATOR, Role.REVIEWER, Role.MANAGER, Role.ADMIN, Role.SYSTEM}
)


@dataclass(frozen=True)
class Refusal:
    """Why an action was refused. `kind` becomes the error type the API maps (StaleState is a 412,
    InvalidInput a 422: a value the policy does not allow, whatever the complaint's state)."""

    message: str
    kind: str = "TransitionRefused"


def _words(text: str) -> str:
    return text.replace("_", " ")


def status_refusal(action: str, status: Status, allowed_from: frozenset[Status]) -> Refusal | None:
    if status in allowed_from:
        return None
    possible = ", ".join(sorted(_words(allowed) for allowed in allowed_from))
    return Refusal(
        f"cannot {_words(action)} while the complaint is {_words(status)} (possible when it is {possible})"
    )


def common_refusal(state: ComplaintState, command: cmd.Command) -> Refusal | None:
    """Checks every action shares: a stale view, and staff acting on a complaint about themselves."""
    if command.expected_seq is not None and command.expected_seq != state.seq:
        return Refusal("the complaint changed since you read it: reload and try again", "StaleState")
    actor = command.actor
    if actor.role is not Role.RESIDENT and actor.id in state.intake.staff_complained_about:
        return Refusal("this complaint is about you: it must be handled by someone else")
    return None


def independence_refusal(state: ComplaintState, person: str, policy: Policy | None = None) -> Refusal | None:
    """Stage 2 is answered by someone independent of Stage 1: not its responder, nor anybody who was ever
    assigned Stage 1. Where the policy asks for it (`independent_of = "anyone_who_acted_on_stage_1"`),
    nobody who took any action on Stage 1 either."""
    if state.stage < 2:
        return None
    earlier = state.stage_state(state.stage - 1)
    if earlier is None:
        return None
    handled = {earlier.assigned_to, earlier.responded_by, *earlier.assigned_ever}
    if person in handled:
        return Refusal(
            f"{person} handled Stage {earlier.number}; Stage {state.stage} needs someone independent"
        )
    # --- issue 24 (seed rules): Barking and Dagenham's review is by "someone independent, who did not work
    # on your Stage 1 complaint": a reviewer who asked for information, a manager who extended it...
    if (
        policy is not None
        and policy.stage(state.stage).independent_of is Independence.ANYONE_WHO_ACTED_ON_STAGE_1
        and person in earlier.acted_by
    ):
        return Refusal(
            f"{person} worked on Stage {earlier.number}; {policy.name} needs someone independent, who did not"
            f" work on the Stage {earlier.number} complaint, for Stage {state.stage}"
        )
    # --- end issue 24
    return None


# ------------------------------------------------------------------------------ per-action rules


def decline(state: ComplaintState, policy: Policy, command: cmd.Decline, now: datetime) -> Refusal | None:
    if policy.exclusion(command.exclusion_code) is None:
        codes = ", ".join(exclusion.code for exclusion in policy.exclusions)
        return Refusal(f"unknown exclusion category {command.exclusion_code!r}; known: {codes}")
    return None


def assign(state: ComplaintState, policy: Policy, command: cmd.Assign, now: datetime) -> Refusal | None:
    if command.assignee in state.intake.staff_complained_about:
        return Refusal(f"{command.assignee} is named in the complaint and cannot be assigned it")
    if state.intake.handled_by_senior and command.assignee_role not in SENIOR_ROLES:
        return Refusal("this complaint is about an investigating officer: assign it to a manager")
    return independence_refusal(state, command.assignee, policy=policy)


def add_information(
    state: ComplaintState, policy: Policy, command: cmd.AddInformation, now: datetime
) -> Refusal | None:
    """Information logged later keeps the time it arrived (issue 27), which cannot be in the future."""
    if command.received_at is not None and command.received_at > now:
        return Refusal("received_at: the information cannot have arrived in the future")
    return None


# --- issue 24 (seed rules)
def open_linked_complaint(
    state: ComplaintState, policy: Policy, command: cmd.OpenLinkedComplaint, now: datetime
) -> Refusal | None:
    """A new issue logged later keeps the day the resident raised it: not in the future, and not before
    this complaint (it was raised during it). Its service area, when given, is one of the policy's."""
    if command.service_area is not None and (problem := policy.area_problem(command.service_area)):
        return Refusal(problem, "InvalidInput")
    received = command.received_at
    if received is None:
        return None
    if received > now:
        return Refusal("received_at: the new issue cannot have been raised in the future")
    if received < state.intake.received_at:
        return Refusal("received_at: the new issue cannot have been raised before this complaint arrived")
    return None


# --- end issue 24


def extend(state: ComplaintState, policy: Policy, command: cmd.Extend, now: datetime) -> Refusal | None:
    stage = state.current
    if command.new_respond_by <= stage.respond_by:
        return Refusal(
            f"the new response date must be after the current one ({stage.respond_by.isoformat()})"
        )
    limit = stage.extension_limit_by
    if limit is not None and command.new_respond_by > limit:
        agreed = stage.agreed_up_to
        if agreed is None or command.new_respond_by > agreed:
            return Refusal(
                f"beyond {limit.isoformat()} (the policy's extension limit) the complainant's recorded"
                " agreement is needed"
            )
    return None


def ask_extension_agreement(
    state: ComplaintState, policy: Policy, command: cmd.AskExtensionAgreement, now: datetime
) -> Refusal | None:
    if command.up_to <= state.current.respond_by:
        return Refusal(
            "the date to agree to must be after the current response date"
            f" ({state.current.respond_by.isoformat()})"
        )
    return None


def extension_question_pending(state: ComplaintState) -> bool:
    """Whether the council has asked the complainant about a later response at this stage and has no answer
    yet (the ledger's latest agreement line is the question)."""
    kinds = ("agreement_asked", "agreement", "agreement_refused")
    asked = [entry.kind for entry in state.current.ledger if entry.kind in kinds]
    return bool(asked) and asked[-1] == "agreement_asked"


def record_extension_agreement(
    state: ComplaintState, policy: Policy, command: cmd.RecordExtensionAgreement, now: datetime
) -> Refusal | None:
    if command.agreed and command.up_to is None:
        return Refusal("an agreement needs the date the complainant agreed to")
    # Staff record an answer given by phone or letter at any time; a resident answers the question asked.
    if command.actor.role is Role.RESIDENT and not extension_question_pending(state):
        return Refusal("we have not asked you to agree to a later response")
    if command.agreed and command.up_to is not None and command.up_to <= state.current.respond_by:
        return Refusal(
            "the date agreed to must be after the current response date"
            f" ({state.current.respond_by.isoformat()})"
        )
    return None


def respond(state: ComplaintState, policy: Policy, command: cmd.Respond, now: datetime) -> Refusal | None:
    if state.intake.handled_by_senior and command.actor.role not in SENIOR_ROLES:
        return Refusal("this complaint is about an investigating officer: a manager must answer it")
    refused = independence_refusal(state, command.actor.id, policy=policy)
    if refused is not None:
        return refused
    learning = command.learning
    improvements = learning.improvements if learning is not None else []
    ids = [action.id for action in [*command.actions, *improvements]]
    known = {action.id for action in state.actions}
    if len(ids) != len(set(ids)) or known & set(ids):
        return Refusal("action ids must be unique within the complaint (improvements included)")
    if learning is not None and learning.root_cause not in policy.root_causes:
        causes = ", ".join(policy.root_causes)
        return Refusal(f"learning.root_cause: {learning.root_cause!r} is not one of this policy's: {causes}")
    return None


def record_ombudsman_decision(
    state: ComplaintState, policy: Policy, command: cmd.RecordOmbudsmanDecision, now: datetime
) -> Refusal | None:
    """The determination is one of the complaint's ombudsman's (the body it was referred to, else the
    policy's); the orders' ids are new on the complaint."""
    body = body_of(str(state.ombudsman.get("body", ""))) or policy.ombudsman.body
    refused = determination_refusal(body, command.determination)
    if refused is not None:
        return Refusal(refused)
    ids = [order.id for order in command.orders]
    if len(ids) != len(set(ids)) or {action.id for action in state.actions} & set(ids):
        return Refusal("orders: ids must be unique within the complaint (promised actions included)")
    return None


def complete_action(
    state: ComplaintState, policy: Policy, command: cmd.CompleteAction, now: datetime
) -> Refusal | None:
    action = next((item for item in state.actions if item.id == command.action_id), None)
    if action is None:
        return Refusal(f"no action {command.action_id!r} on this complaint")
    if action.completed_at is not None:
        return Refusal(f"action {command.action_id!r} was already completed")
    return None


def close(state: ComplaintState, policy: Policy, command: cmd.Close, now: datetime) -> Refusal | None:
    """No closure (and no closure letter) while the complainant can still ask for the next stage, unless they
    told us they do not want it: the complaint closes by itself, with its letter, when the window ends."""
    window = state.current.escalation_request_by
    if window is not None and now <= window.at and not command.complainant_does_not_want_next_stage:
        return Refusal(
            f"the complainant can ask for Stage {state.current.number + 1} until {window.on.isoformat()}: the"
            " complaint closes by itself when that window ends (set complainant_does_not_want_next_stage if"
            " they told you they do not want it)"
        )
    return None


def request_escalation(
    state: ComplaintState, policy: Policy, command: cmd.RequestEscalation, now: datetime
) -> Refusal | None:
    stage = state.current
    window = stage.escalation_request_by
    if state.status is Status.CLOSED:
        # Only a complaint closed because its window ran out can still be escalated: late, by an officer.
        if window is None or state.closure_reason != "escalation window closed":
            return Refusal(f"cannot request escalation of a complaint that is {state.status}")
    elif window is None:
        return Refusal(f"Stage {stage.number} is the last stage of this policy")
    received = command.received_at or now
    if received > now:
        return Refusal("received_at: a request cannot have arrived in the future")
    if stage.responded_at is not None and received < stage.responded_at:
        return Refusal("received_at: a request for the next stage cannot have arrived before the response")
    # --- issue 24 (seed rules) and issue 28, point 4: what the policy needs to know to take the request.
    needs = policy.stage(stage.number).escalation_needs()
    if EscalationNeed.REASONS in needs and not command.reasons.strip():
        return Refusal(
            f"reasons: this policy asks for the reasons for asking for Stage {stage.number + 1} (what was not"
            " handled well, or what is disagreed with in the response)"
        )
    if EscalationNeed.OUTCOME_WANTED in needs and not command.outcome_wanted.strip():
        return Refusal(
            f"outcome_wanted: this policy asks what further action or outcome is wanted from Stage"
            f" {stage.number + 1}"
        )
    # --- end issue 24
    late = received > window.at
    if late and not command.accept_late_reason:
        return Refusal(f"the window to ask for Stage {stage.number + 1} closed on {window.on.isoformat()}")
    if late and command.actor.role not in STAFF_ROLES:
        return Refusal("only an officer can accept a late escalation request")
    if late and not policy.stage(stage.number).late_escalation_at_discretion:
        return Refusal("this policy does not accept late escalation requests")
    return None


def restrict_contact(
    state: ComplaintState, policy: Policy, command: cmd.RestrictContact, now: datetime
) -> Refusal | None:
    if command.review_on > command.until:
        return Refusal("the review date must be on or before the end of the restriction")
    # --- issue 24 (seed rules)
    if command.stops_correspondence:
        if not policy.contact_restrictions.may_stop_correspondence:
            return Refusal(
                f"stops_correspondence: {policy.name}'s policy does not provide for stopping correspondence"
            )
        if state.current.responded_at is None:
            # council-004: "repeated complaints on the same or related matters that have already been
            # addressed through the corporate complaints process": the matter is addressed only once the
            # stage in hand has its response (a Stage 2 still owed is not yet addressed).
            return Refusal(
                "stops_correspondence: only a matter already addressed (its current stage answered) can have"
                " its correspondence stopped"
            )
    # --- end issue 24
    return None


def lift_contact_restriction(
    state: ComplaintState, policy: Policy, command: cmd.LiftContactRestriction, now: datetime
) -> Refusal | None:
    restriction = state.contact_restriction
    if restriction is None or restriction.get("lifted_at"):
        return Refusal("no contact restriction is in force on this complaint")
    return None


def record_representative_consent(
    state: ComplaintState, policy: Policy, command: cmd.RecordRepresentativeConsent, now: datetime
) -> Refusal | None:
    representative = state.intake.representative
    if representative is None:
        return Refusal("this complaint names no representative")
    if representative.consent_recorded:
        return Refusal("the complainant's consent for their representative is already on file")
    if not policy.complainants.consent_accepted(command.consent_kind):
        needed = policy.complainants.representative_consent.value
        return Refusal(f"consent_kind: {policy.name} needs {needed} consent, not {command.consent_kind}")
    if command.received_on > now.date():
        return Refusal("received_on: consent cannot have arrived in the future")
    return None


# --- issue 24 (seed rules)
def correspondence_stopped_until(state: ComplaintState, now: datetime) -> str | None:
    """The last day (ISO date) of a restriction in force that stops correspondence on this complaint's matter,
    or None: until then the council enters into no correspondence on it (council-004)."""
    restriction = state.contact_restriction
    if not restriction or not restriction.get("stops_correspondence"):
        return None
    if restriction.get("lifted_at") or restriction.get("ended"):
        return None
    until_at = restriction.get("until_at")
    if isinstance(until_at, str) and datetime.fromisoformat(until_at) < now:
        return None
    until = restriction.get("until")
    return str(until) if until else None


# --- end issue 24


# --- issue 28: the early-resolution step before Stage 1 ---
def at_early_resolution(
    state: ComplaintState, policy: Policy, command: cmd.Command, now: datetime
) -> Refusal | None:
    """Resolving early or starting the investigation: only while the early-resolution step runs."""
    stage = state.current
    if stage.number != 1 or stage.early_resolution is None:
        return Refusal("this complaint has no early-resolution step (its policy has none)")
    if stage.early_resolution_ended is not None:
        return Refusal(f"early resolution has already ended ({_words(stage.early_resolution_ended)})")
    return None


def start_investigation(
    state: ComplaintState, policy: Policy, command: cmd.StartInvestigation, now: datetime
) -> Refusal | None:
    """Only at early resolution; the request (or decision) it records is neither future nor before receipt."""
    if refused := at_early_resolution(state, policy, command, now):
        return refused
    if command.actor.role is Role.RESIDENT and (command.because != "requested" or command.received_at):
        # The resident's own request, dated when it arrives (issue 28: the clock starts from it).
        return Refusal("a resident asks for an investigation now: because 'requested', no other date")
    received = command.received_at or now
    if received > now:
        return Refusal("received_at: a request for an investigation cannot have arrived in the future")
    if received < state.current.received_at:
        return Refusal("received_at: a request for an investigation cannot have arrived before the complaint")
    return None


def not_at_early_resolution(
    state: ComplaintState, policy: Policy, command: cmd.Command, now: datetime
) -> Refusal | None:
    """Stage 1 is acknowledged once its clock runs: resolve early or start the investigation first."""
    stage = state.current
    if stage.at_early_resolution:
        return Refusal("the complaint is at early resolution: resolve it there or start the investigation")
    return None


# --- issue 25: a manager's approval of a response ---
def respond_unless_drafted(
    state: ComplaintState, policy: Policy, command: cmd.Respond, now: datetime
) -> Refusal | None:
    """A response while another waits for approval is refused: the manager approves or returns it first."""
    if state.current.draft_response_by is not None:
        return Refusal(
            "a response is waiting for a manager's approval: it must be approved or returned first"
        )
    return respond(state, policy, command, now)


def _draft_refusal(state: ComplaintState, command: cmd.Command) -> Refusal | None:
    drafted_by = state.current.draft_response_by
    if drafted_by is None:
        return Refusal("no response is waiting for approval")
    if drafted_by == command.actor.id:
        return Refusal("you drafted this response: another manager must approve or return it")
    return None


def approve_response(
    state: ComplaintState, policy: Policy, command: cmd.ApproveResponse, now: datetime
) -> Refusal | None:
    """A manager other than its author approves the waiting draft, exactly as recorded."""
    if refused := _draft_refusal(state, command):
        return refused
    if command.draft is None or command.draft_seq != state.current.draft_response_seq:
        return Refusal("the draft to approve is not the one waiting: open the complaint again")
    return None


def return_response(
    state: ComplaintState, policy: Policy, command: cmd.ReturnResponse, now: datetime
) -> Refusal | None:
    return _draft_refusal(state, command)
