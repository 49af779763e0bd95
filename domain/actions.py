"""The action table: every staff or resident action of a complaint, declared once.

An entry names the command it takes, the statuses it is allowed from, the staff roles that may do it, a
one-line summary, its rule (may it happen now?) and its apply step (what it does). The workflow registers one
Update per entry, the API one endpoint per entry, and the permission matrix and the README's table are read
from it. Adding an action is one entry here, its rule and step, and its test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain import commands as cmd
from domain import rules
from domain.models import FINAL_STATUSES, ComplaintState, Role, Status
from domain.policy import Policy
from domain.rules import Refusal
from domain.steps import Applied, Ctx, approval, early, escalation, intake, investigation, records

S = Status
R = Role
OPEN = frozenset(Status) - FINAL_STATUSES
ANY_STATUS = frozenset(Status)
INVESTIGATING = frozenset({S.ACKNOWLEDGED, S.AWAITING_INFORMATION})
OFFICER, INVESTIGATOR, REVIEWER, MANAGER, ADMIN = (
    R.COMPLAINTS_OFFICER,
    R.INVESTIGATOR,
    R.REVIEWER,
    R.MANAGER,
    R.ADMIN,
)
CASEWORKERS = frozenset({OFFICER, INVESTIGATOR, REVIEWER, MANAGER})

Rule = Callable[..., Refusal | None]
Step = Callable[[Ctx, Any], Awaitable[Applied]]


@dataclass(frozen=True)
class Action:
    name: str
    command: type[cmd.Command]
    allowed_from: frozenset[Status]
    roles: frozenset[Role]
    summary: str
    step: Step
    rule: Rule | None = None
    # Statuses outside `allowed_from` in which the rule itself decides (a late escalation after closure).
    rule_decides_in: frozenset[Status] = frozenset()
    # Roles allowed only at some stages: Stage 2 is answered by a reviewer, Stage 1 by an investigator.
    stage_1_roles: frozenset[Role] | None = None
    stage_2_roles: frozenset[Role] | None = None
    # Resident self-service may take this action (through api/resident).
    resident: bool = False
    examples: list[dict[str, Any]] = field(default_factory=list)

    def allows(self, role: Role, stage: int = 1) -> bool:
        """May a staff member in `role` take this action on a complaint at `stage`?"""
        roles = (self.stage_2_roles if stage >= 2 else self.stage_1_roles) or self.roles
        return role in roles

    def _role_refusal(self, role: Role, stage: int) -> Refusal | None:
        """Who may act is checked by the workflow too, not only the API: a resident only where self-service
        allows it, staff by the matrix (Stage 2 answered by a reviewer or a manager)."""
        if role is Role.SYSTEM:
            return None
        if role is Role.RESIDENT:
            return None if self.resident else Refusal(f"a resident cannot {self.name.replace('_', ' ')}")
        if self.allows(role, stage):
            return None
        who = role.value.replace("_", " ")
        article = "an" if who[0] in "aeiou" else "a"
        return Refusal(f"{article} {who} cannot {self.name.replace('_', ' ')} at Stage {stage}")

    def refusal(
        self, state: ComplaintState, policy: Policy, command: cmd.Command, now: datetime
    ) -> Refusal | None:
        """Why this action may not happen now, or None: staleness, conflict, role, status, then its rule."""
        refused = rules.common_refusal(state, command)
        if refused is None:
            refused = self._role_refusal(command.actor.role, state.stage)
        if refused is None and state.status not in self.rule_decides_in:
            refused = rules.status_refusal(self.name, state.status, self.allowed_from)
        if refused is None and self.rule is not None:
            refused = self.rule(state, policy, command, now)
        return refused


_ACTIONS = [
    Action(
        "acknowledge",
        cmd.Acknowledge,
        frozenset({S.RECEIVED, S.ESCALATION_REQUESTED}),
        frozenset({OFFICER, REVIEWER, MANAGER}),
        "Acknowledge the complaint (Stage 1, or accept Stage 2).",
        intake.acknowledge,
        rules.not_at_early_resolution,  # issue 28: Stage 1's clock runs only after early resolution
    ),
    # --- issue 28: the early-resolution step before Stage 1 ---
    Action(
        "resolve_early",
        cmd.ResolveEarly,
        frozenset({S.RECEIVED}),
        frozenset({OFFICER, INVESTIGATOR, MANAGER}),
        "Resolve the complaint at early resolution: it closes with this outcome.",
        early.resolve_early,
        rules.at_early_resolution,
    ),
    Action(
        "start_investigation",
        cmd.StartInvestigation,
        frozenset({S.RECEIVED}),
        frozenset({OFFICER, INVESTIGATOR, MANAGER}),
        "End early resolution: the complainant asked for, or the complaint needs, an investigation.",
        early.start_investigation,
        rules.start_investigation,
        resident=True,  # the resident asks for it themselves (api/routes/resident_investigation.py)
    ),
    Action(
        "assign",
        cmd.Assign,
        OPEN,
        frozenset({OFFICER, MANAGER}),
        "Allocate the complaint to an investigating officer.",
        intake.assign,
        rules.assign,
    ),
    Action(
        "decline",
        cmd.Decline,
        # A ground that appears during the investigation can still be used, up to the response.
        frozenset({S.RECEIVED, S.ACKNOWLEDGED, S.AWAITING_INFORMATION}),
        frozenset({OFFICER, MANAGER}),
        "Decline: not a complaint under the policy, with the exclusion and signposting.",
        intake.decline,
        rules.decline,
    ),
    Action(
        "request_information",
        cmd.RequestInformation,
        frozenset({S.ACKNOWLEDGED}),
        CASEWORKERS,
        "Ask the complainant for information.",
        investigation.request_information,
    ),
    Action(
        "information_received",
        cmd.InformationReceived,
        frozenset({S.AWAITING_INFORMATION}),
        CASEWORKERS,
        "Record that the requested information arrived.",
        investigation.information_received,
    ),
    Action(
        "add_information",
        cmd.AddInformation,
        OPEN,
        CASEWORKERS,
        "Join new information or a related issue to this complaint.",
        records.add_information,
        rules.add_information,
        resident=True,
    ),
    Action(
        "open_linked_complaint",
        cmd.OpenLinkedComplaint,
        OPEN,
        frozenset({OFFICER, MANAGER}),
        "Start a new Stage 1 complaint for an unrelated issue.",
        records.open_linked_complaint,
        rules.open_linked_complaint,
    ),
    Action(
        "extend",
        cmd.Extend,
        INVESTIGATING,
        frozenset({INVESTIGATOR, REVIEWER, MANAGER}),
        "Move the response date, with a reason.",
        investigation.extend,
        rules.extend,
        stage_1_roles=frozenset({INVESTIGATOR, MANAGER}),
        stage_2_roles=frozenset({REVIEWER, MANAGER}),
    ),
    Action(
        "ask_extension_agreement",
        cmd.AskExtensionAgreement,
        INVESTIGATING,
        frozenset({INVESTIGATOR, REVIEWER, MANAGER}),
        "Ask the complainant to agree to a later response, with the date and why.",
        investigation.ask_extension_agreement,
        rules.ask_extension_agreement,
        stage_1_roles=frozenset({INVESTIGATOR, MANAGER}),
        stage_2_roles=frozenset({REVIEWER, MANAGER}),
    ),
    Action(
        "record_extension_agreement",
        cmd.RecordExtensionAgreement,
        INVESTIGATING,
        CASEWORKERS,
        "Record the complainant's answer to an extension.",
        investigation.record_extension_agreement,
        rules.record_extension_agreement,
        resident=True,
    ),
    Action(
        "respond",
        cmd.Respond,
        INVESTIGATING,
        frozenset({INVESTIGATOR, REVIEWER, MANAGER}),
        "Send the response: outcome, findings, remedies and actions.",
        approval.respond_or_draft,  # a draft for a manager's approval where the policy asks (issue 25)
        rules.respond_unless_drafted,
        stage_1_roles=frozenset({INVESTIGATOR, MANAGER}),
        stage_2_roles=frozenset({REVIEWER, MANAGER}),
    ),
    # --- issue 25: a manager's approval of a response (policy `response_approval`) ---
    Action(
        "approve_response",
        cmd.ApproveResponse,
        INVESTIGATING,
        frozenset({MANAGER}),
        "Approve the drafted response: it is sent now.",
        approval.approve_response,
        rules.approve_response,
    ),
    Action(
        "return_response",
        cmd.ReturnResponse,
        INVESTIGATING,
        frozenset({MANAGER}),
        "Return the drafted response to its author with the reason: nothing is sent.",
        approval.return_response,
        rules.return_response,
    ),
    Action(
        "complete_action",
        cmd.CompleteAction,
        ANY_STATUS,
        CASEWORKERS,
        "Mark a promised action as done.",
        investigation.complete_action,
        rules.complete_action,
    ),
    Action(
        "request_escalation",
        cmd.RequestEscalation,
        frozenset({S.RESPONDED}),
        frozenset({OFFICER, MANAGER}),
        "Ask for Stage 2 on the complainant's behalf (or accept late).",
        escalation.request_escalation,
        rules.request_escalation,
        rule_decides_in=frozenset({S.CLOSED}),
        resident=True,
    ),
    Action(
        "refuse_escalation",
        cmd.RefuseEscalation,
        frozenset({S.ESCALATION_REQUESTED}),
        frozenset({REVIEWER, MANAGER}),
        "Refuse Stage 2, with reasons and ombudsman signposting.",
        escalation.refuse_escalation,
    ),
    Action(
        "close",
        cmd.Close,
        frozenset({S.RESPONDED}),
        frozenset({OFFICER, MANAGER}),
        "Close the complaint (once the next stage cannot be asked for, or is not wanted).",
        escalation.close,
        rules.close,
    ),
    Action(
        "withdraw",
        cmd.Withdraw,
        OPEN,
        frozenset({OFFICER, MANAGER}),
        "Record that the complainant withdrew the complaint.",
        escalation.withdraw,
        resident=True,
    ),
    Action(
        "refer_to_ombudsman",
        cmd.ReferToOmbudsman,
        ANY_STATUS,
        frozenset({OFFICER, MANAGER}),
        "Record a referral to the ombudsman.",
        escalation.refer_to_ombudsman,
    ),
    Action(
        "record_ombudsman_decision",
        cmd.RecordOmbudsmanDecision,
        ANY_STATUS,
        frozenset({OFFICER, MANAGER}),
        "Record the ombudsman's decision: its determination, orders and complaint-handling findings.",
        escalation.record_ombudsman_decision,
        rules.record_ombudsman_decision,
    ),
    Action(
        "add_note",
        cmd.AddNote,
        ANY_STATUS,
        CASEWORKERS | {ADMIN},
        "Add an internal note.",
        records.add_note,
    ),
    Action(
        "record_representative_consent",
        cmd.RecordRepresentativeConsent,
        ANY_STATUS,
        frozenset({OFFICER, MANAGER}),
        "Record the complainant's consent for their representative to act.",
        records.record_representative_consent,
        rules.record_representative_consent,
    ),
    Action(
        "restrict_contact",
        cmd.RestrictContact,
        ANY_STATUS,
        frozenset({MANAGER}),
        "Restrict contact for a period, with a review date.",
        records.restrict_contact,
        rules.restrict_contact,
    ),
    Action(
        "lift_contact_restriction",
        cmd.LiftContactRestriction,
        ANY_STATUS,
        frozenset({MANAGER}),
        "Lift a contact restriction (after its review, or earlier).",
        records.lift_contact_restriction,
        rules.lift_contact_restriction,
    ),
    Action(
        "recalculate_deadlines",
        cmd.RecalculateDeadlines,
        OPEN,
        frozenset({MANAGER, ADMIN}),
        "Apply new holiday data to this complaint's dates.",
        records.recalculate_deadlines,
    ),
]

ACTIONS: dict[str, Action] = {action.name: action for action in _ACTIONS}
