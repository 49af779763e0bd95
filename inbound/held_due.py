"""What staff must not miss about a held web submission (api/resident/withheld.py) while it waits in triage:
its sender was told an acknowledgement date (or an early-resolution step's last day), yet no acknowledgement
or assignment shows anywhere until an officer decides the item. The triage queue shows that date, marked
due soon or overdue as the complaint queues mark theirs (domain/due.py); the overdue digest and the nightly
reconciliation count the items past it (activities/digest.py, activities/reconcile.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from core.services import Services
from domain.deadlines import calendar_for
from domain.due import Due, due_state
from domain.policy import Policy
from store.held_submissions import HeldDates, HeldSubmissionRepository


@dataclass(frozen=True)
class HeldDue:
    dates: HeldDates
    deadline: datetime | None  # the end of the told day in the council's calendar
    due: Due | None


def deadline_of(dates: HeldDates, policies: Mapping[str, Policy]) -> datetime | None:
    """The end of the told day, in the council's calendar (a complaint's deadline is met until then)."""
    policy = policies.get(dates.policy_id)
    if dates.told is None or policy is None:
        return None
    return calendar_for(policy).end_of_day(dates.told)


def due_of(dates: HeldDates, policies: Mapping[str, Policy], now: datetime) -> HeldDue:
    deadline = deadline_of(dates, policies)
    return HeldDue(dates, deadline, None if deadline is None else due_state(deadline, now))


async def held_due(services: Services, inbound_ids: list[uuid.UUID]) -> dict[uuid.UUID, HeldDue]:
    """Of these triage items, the held submissions still owed their told date, and how due it is."""
    found = await HeldSubmissionRepository(services.pool).undecided_dates(inbound_ids)
    now = datetime.now(UTC)
    return {inbound_id: due_of(dates, services.policies, now) for inbound_id, dates in found.items()}
