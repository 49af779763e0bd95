"""The resident channels a contact restriction closes (issue 16): checked before a resident's message, upload
or new complaint is taken. The refusal says what is closed, until when, and what stays open."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from api.errors import ProblemError
from core.services import Services
from domain.models import ResidentChannel
from notifications.render import format_date
from store import contact_restrictions

CLOSED = {
    ResidentChannel.MESSAGES: "sending messages online",
    ResidentChannel.EVIDENCE: "uploading files online",
    ResidentChannel.NEW_COMPLAINTS: "making a new complaint online",
}


async def new_complaints_restricted(services: Services, *, policy_id: str, email: str) -> bool:
    """Whether a restriction of this council in force for this e-mail address closes new online complaints
    (the public form then holds the submission for staff: api/resident/withheld.py)."""
    policy = services.policies.get(policy_id)
    zone = ZoneInfo(policy.timezone if policy is not None else "Europe/London")
    found = await contact_restrictions.in_force(
        services.pool,
        policy_id=policy_id,
        reference=None,
        email=email,
        channel=ResidentChannel.NEW_COMPLAINTS,
        today=datetime.now(zone).date(),
    )
    return found is not None


async def refuse_if_restricted(
    services: Services, channel: ResidentChannel, *, policy_id: str, reference: str | None, email: str | None
) -> None:
    """403 `contact-restricted` when a restriction of this council in force for this person closes `channel`.

    Whoever follows a complaint holds its access code, so they are told until when. A new complaint is made
    by anyone who types an e-mail address: the answer then names no person, decision or date."""
    policy = services.policies.get(policy_id)
    zone = ZoneInfo(policy.timezone if policy is not None else "Europe/London")
    found = await contact_restrictions.in_force(
        services.pool,
        policy_id=policy_id,
        reference=reference,
        email=email,
        channel=channel,
        today=datetime.now(zone).date(),
    )
    if found is None:
        return
    if reference is None:
        raise ProblemError(
            403,
            "Contact restricted",
            "We cannot take this complaint online. Please write to us by post, or contact us in the way we"
            " have agreed with you.",
            "contact-restricted",
        )
    # Issue 24: where the decision also stopped correspondence on the matter (council-004), no letter by post
    # will be answered either: say so rather than invite one.
    instead = (
        f"We will not reply to further correspondence about this matter until {format_date(found.until)}."
        if found.stops_correspondence and found.decided_on == reference
        else "Please write to us by post instead."
    )
    raise ProblemError(
        403,
        "Contact restricted",
        f"{CLOSED[channel].capitalize()} is not available to you until {format_date(found.until)}, as we"
        f" wrote to tell you. {instead} You can still follow your complaints online, ask for the next stage"
        " of our complaints procedure, or go to the ombudsman.",
        "contact-restricted",
    )
