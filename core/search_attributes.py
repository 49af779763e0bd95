"""Custom search attributes that let operations filter complaints in the Temporal Web UI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from domain.models import Intake, Status

POLICY = SearchAttributeKey.for_keyword("Policy")
STAGE = SearchAttributeKey.for_int("Stage")
STATUS = SearchAttributeKey.for_keyword("ComplaintStatus")
SERVICE_AREA = SearchAttributeKey.for_keyword("ServiceArea")
ASSIGNED_TO = SearchAttributeKey.for_keyword("AssignedTo")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
# The workflow code version a run started on (workflows/complaint/version.py): the replay check samples the
# oldest runs of every version, and docs/upgrading.md says when a patch can go.
CODE_VERSION = SearchAttributeKey.for_keyword("CodeVersion")

# Name -> type as the `temporal` CLI and the operator service spell it.
SEARCH_ATTRIBUTE_TYPES: dict[str, str] = {
    "Policy": "Keyword",
    "Stage": "Int",
    "ComplaintStatus": "Keyword",
    "ServiceArea": "Keyword",
    "AssignedTo": "Keyword",
    "NextDeadline": "Datetime",
    "Overdue": "Bool",
    "CodeVersion": "Keyword",
}


def at_start(intake: Intake, code_version: str) -> TypedSearchAttributes:
    """A new complaint's attributes, set when its workflow is started (by intake or by the reconciler), so it
    is filterable in the Web UI before its first workflow task runs. `code_version` is this release's (the
    workflow sets its own on its first task, the same after a deploy): a run stopped before its first task is
    still counted by the replay check."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(POLICY, intake.policy_id),
            SearchAttributePair(STAGE, 1),
            SearchAttributePair(STATUS, Status.RECEIVED.value),
            SearchAttributePair(SERVICE_AREA, intake.service_area),
            SearchAttributePair(OVERDUE, False),
            SearchAttributePair(CODE_VERSION, code_version),
        ]
    )
