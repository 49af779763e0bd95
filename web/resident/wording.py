"""The pages' words for a complaint's state, with one name per stage: the policy's own (`[[stages]] name`:
"Stage 2", "Review", "Investigation"...), the same on every page and in every status
(`api/resident/wording.py`)."""

from __future__ import annotations

from api.resident.bodies import ResidentComplaintView
from api.resident.wording import stage_name
from domain.policy import Policy

STATUS_LABELS = {
    "received": "Received",
    "declined": "Not taken forward",
    "acknowledged": "Being looked into",
    "awaiting_information": "Waiting for information",
    "responded": "Response sent",
    "closed": "Closed",
    "withdrawn": "Withdrawn",
}

# The results a redirect can announce (a fixed list: nothing from the query string is shown as is).
DONE = {
    "information": "Thank you. We have added your information to your complaint.",
    # Received, not accepted: the council decides whether the next stage goes ahead (and says so in a letter).
    "review": "We have received your request to take your complaint to {stage}.",
    "extension": "Thank you. We have recorded your answer.",
    "withdrawn": "Your complaint has been withdrawn.",
    "evidence": "Thank you. We have added your file to your complaint.",
    # issue 28: api/routes/resident_investigation.py
    "investigation": "We have started a full investigation of your complaint. We will write to you.",
}


def next_stage_name(policy: Policy | None, number: int) -> str:
    return stage_name(policy, number + 1)


def status_label(seen: ResidentComplaintView, policy: Policy | None) -> str:
    """The status tag: plain words, a stage by its policy name."""
    status = seen.status.value
    if status == "escalation_requested":
        return f"{stage_name(policy, seen.stage)} asked for"
    if status == "escalation_refused":
        return f"{next_stage_name(policy, seen.stage)} refused"
    return STATUS_LABELS.get(status, status)
