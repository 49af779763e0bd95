"""The permission matrix: which staff role may do what. Documented in the README and tested per endpoint."""

from __future__ import annotations

from domain.models import Role

R = Role
OFFICER, INVESTIGATOR, REVIEWER, MANAGER, ADMIN, AUDITOR = (
    R.COMPLAINTS_OFFICER,
    R.INVESTIGATOR,
    R.REVIEWER,
    R.MANAGER,
    R.ADMIN,
    R.AUDITOR,
)
ALL_STAFF = frozenset({OFFICER, INVESTIGATOR, REVIEWER, MANAGER, ADMIN, AUDITOR})
WORKING_STAFF = ALL_STAFF - {AUDITOR}

PERMISSIONS: dict[str, frozenset[Role]] = {
    "create": frozenset({OFFICER, MANAGER, ADMIN}),
    "read": ALL_STAFF,
    "list": ALL_STAFF,
    "audit": frozenset({AUDITOR, MANAGER, ADMIN}),
    "acknowledge": frozenset({OFFICER, REVIEWER, MANAGER}),
    "assign": frozenset({OFFICER, MANAGER}),
    "decline": frozenset({OFFICER, MANAGER}),
    "request_information": frozenset({OFFICER, INVESTIGATOR, REVIEWER, MANAGER}),
    "information_received": frozenset({OFFICER, INVESTIGATOR, REVIEWER, MANAGER}),
    "add_information": frozenset({OFFICER, INVESTIGATOR, REVIEWER, MANAGER}),
    "open_linked_complaint": frozenset({OFFICER, MANAGER}),
    "extend": frozenset({INVESTIGATOR, REVIEWER, MANAGER}),
    "record_extension_agreement": frozenset({OFFICER, INVESTIGATOR, REVIEWER, MANAGER}),
    "respond": frozenset({INVESTIGATOR, REVIEWER, MANAGER}),
    "complete_action": frozenset({OFFICER, INVESTIGATOR, REVIEWER, MANAGER}),
    "request_escalation": frozenset({OFFICER, MANAGER}),
    "refuse_escalation": frozenset({REVIEWER, MANAGER}),
    "close": frozenset({OFFICER, MANAGER}),
    "withdraw": frozenset({OFFICER, MANAGER}),
    "refer_to_ombudsman": frozenset({OFFICER, MANAGER}),
    "record_ombudsman_decision": frozenset({OFFICER, MANAGER}),
    "add_note": WORKING_STAFF,
    "restrict_contact": frozenset({MANAGER}),
    "revoke_resident_access": frozenset({OFFICER, MANAGER}),
    "recalculate_deadlines": frozenset({MANAGER, ADMIN}),
    # Personal data in bulk: decrypting Temporal payloads for the Web UI (operations), and answering a
    # resident's subject access request (information governance). Managers and admins only.
    "decode_payloads": frozenset({MANAGER, ADMIN}),
    "subject_access": frozenset({MANAGER, ADMIN}),
}

# Stage 2 is answered by a reviewer (or a manager), never by a Stage 1 investigator.
STAGE_2_ONLY_REVIEWERS = frozenset({"extend", "respond", "refuse_escalation"})


def allowed(action: str, role: Role, stage: int = 1) -> bool:
    if role not in PERMISSIONS[action]:
        return False
    if stage >= 2 and action in STAGE_2_ONLY_REVIEWERS and role is INVESTIGATOR:
        return False
    return not (stage < 2 and action in {"extend", "respond"} and role is REVIEWER)
