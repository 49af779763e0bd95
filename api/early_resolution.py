"""Is a complaint at its policy's early-resolution step (issue 28)? Read from the case row, for the staff
console (its section and buttons) and the resident's page (the button asking for an investigation)."""

from __future__ import annotations

from domain.models import Status
from domain.policy import Policy
from store.complaints import ComplaintRecord


def at_early_resolution(policy: Policy | None, record: ComplaintRecord) -> bool:
    """While the step runs the case row shows no acknowledgement date (Stage 1's clock has not started) and
    the step's deadline as its response date (domain.models.CaseRow.of)."""
    return (
        policy is not None
        and policy.early_resolution is not None
        and record.stage == 1
        and record.status == Status.RECEIVED.value
        and record.acknowledge_by is None
    )
