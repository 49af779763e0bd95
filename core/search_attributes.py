"""Custom search attributes that let operations filter complaints in the Temporal Web UI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

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
