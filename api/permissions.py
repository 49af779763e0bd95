"""The permission matrix: which staff role may do what. Actions come from the action table
(`domain/actions.py`); the reads and the few API-only operations are declared here. The README's table is
generated from this (`python -m api.permissions`) and tests/test_readme.py keeps the two in step."""

from __future__ import annotations

from domain.actions import ACTIONS
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
STAFF_ROLES = [OFFICER, INVESTIGATOR, REVIEWER, MANAGER, ADMIN, AUDITOR]

# Operations that are not lifecycle actions (they run no workflow update).
OPERATIONS: dict[str, frozenset[Role]] = {
    "create": frozenset({OFFICER, MANAGER, ADMIN}),
    "read": ALL_STAFF,
    "list": ALL_STAFF,
    "audit": frozenset({AUDITOR, MANAGER, ADMIN}),
    "reports": frozenset({MANAGER, AUDITOR, ADMIN}),
    # The annual report's parts a complaints manager writes (the governing body's response, ...).
    "annual_report_entry": frozenset({MANAGER}),
    "revoke_resident_access": frozenset({OFFICER, MANAGER}),
    # A new access code for a resident who cannot get one by e-mail (api/access_codes.py): the same roles.
    "issue_access_code": frozenset({OFFICER, MANAGER}),
    # Evidence: the casework roles attach and download; admins and auditors see only that files exist.
    "attach": frozenset({OFFICER, INVESTIGATOR, REVIEWER, MANAGER}),
    "download_attachment": frozenset({OFFICER, INVESTIGATOR, REVIEWER, MANAGER}),
    # Anyone who can see a case can say they should not (and is then locked out of it).
    "declare_conflict": ALL_STAFF,
    # Equality monitoring: an officer records what a resident answered on paper or by phone; only managers
    # see it, and only in aggregate.
    "record_equality": frozenset({OFFICER, MANAGER}),
    "equality_report": frozenset({MANAGER}),
    # Inbound e-mail no complaint took (inbound/): officers and managers read the queue and decide each
    # message (open a complaint, link, record a request for the next stage or a service request, dismiss).
    "triage": frozenset({OFFICER, MANAGER}),
    # Personal data in bulk: decrypting Temporal payloads for the Web UI (operations), and answering a
    # resident's subject access request (information governance). Managers and admins only.
    "decode_payloads": frozenset({MANAGER, ADMIN}),
    "subject_access": frozenset({MANAGER, ADMIN}),
}
# The operations listed after the lifecycle actions in the matrix (the case's side operations).
_AFTER_ACTIONS = [
    "revoke_resident_access",
    "issue_access_code",
    "attach",
    "download_attachment",
    "declare_conflict",
    "record_equality",
    "equality_report",
    "triage",
]

PERMISSIONS: dict[str, frozenset[Role]] = {
    **{name: roles for name, roles in OPERATIONS.items() if name not in _AFTER_ACTIONS},
    **{name: action.roles for name, action in ACTIONS.items()},
    **{name: OPERATIONS[name] for name in _AFTER_ACTIONS},
}


def allowed(action: str, role: Role, stage: int = 1) -> bool:
    if action in ACTIONS:
        return ACTIONS[action].allows(role, stage)
    return role in OPERATIONS[action]


def _cell(action: str, role: Role) -> str:
    first, second = allowed(action, role, 1), allowed(action, role, 2)
    if first and second:
        return "yes"
    if first:
        return "stage 1"
    if second:
        return "stage 2"
    return "-"


def matrix_markdown() -> str:
    """The README's permission table."""
    lines = [
        "| action | " + " | ".join(role.value for role in STAFF_ROLES) + " |",
        "|---" * (len(STAFF_ROLES) + 1) + "|",
    ]
    for action in PERMISSIONS:
        lines.append(f"| {action} | " + " | ".join(_cell(action, role) for role in STAFF_ROLES) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(matrix_markdown())  # noqa: T201
