"""Contact restrictions, per person: written with the workflow's events, read by the resident channels.

A manager decides a restriction on one complaint (`restrict_contact`); it applies to every complaint of the
same person with the same council, matched by the complainant's e-mail address on the case rows (so this
table holds no personal data, and a purged complaint matches nobody any more). It ends on its `until` date
or when a manager lifts it (`lift_contact_restriction`). Following a complaint and asking for the next stage
or the ombudsman are never restricted: only the channels the decision names (domain.models.ResidentChannel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from domain.models import ResidentChannel, Transition

Executor = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy

RESTRICTION_EVENTS = frozenset({"restrict_contact", "lift_contact_restriction"})

_DECIDE = """
INSERT INTO contact_restrictions (reference, channels, until_on, review_on, decided_at, decided_by, last_seq,
    stops_correspondence)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (reference) DO UPDATE SET
    channels = EXCLUDED.channels, until_on = EXCLUDED.until_on, review_on = EXCLUDED.review_on,
    decided_at = EXCLUDED.decided_at, decided_by = EXCLUDED.decided_by, lifted_at = NULL, lifted_by = NULL,
    last_seq = EXCLUDED.last_seq, stops_correspondence = EXCLUDED.stops_correspondence
WHERE contact_restrictions.last_seq < EXCLUDED.last_seq
"""

_LIFT = """
UPDATE contact_restrictions SET lifted_at = $2, lifted_by = $3, last_seq = $4
WHERE reference = $1 AND last_seq < $4
"""

# The person's restrictions in force today that close `channel`: decided on this complaint, or on another
# complaint of the same council with the same complainant e-mail address (one council's decision is its own).
_IN_FORCE = """
SELECT r.reference, r.until_on, r.review_on, r.stops_correspondence
FROM contact_restrictions r JOIN complaints c ON c.reference = r.reference
WHERE r.lifted_at IS NULL AND r.until_on >= $3 AND $4 = ANY (r.channels) AND c.policy_id = $5
  AND (r.reference = $1 OR ($2::text IS NOT NULL AND lower(c.complainant ->> 'email') = lower($2::text)))
ORDER BY r.until_on DESC
LIMIT 1
"""


@dataclass(frozen=True)
class Restriction:
    decided_on: str  # the reference of the complaint it was decided on
    until: date
    review_on: date
    # Issue 24: the decision also stops correspondence on the matter until `until` (council-004).
    stops_correspondence: bool = False


async def record_event(db: Executor, *, reference: str, transition: Transition) -> None:
    """Keep the table in step with a restrict or lift event (idempotent: an older event never wins)."""
    detail: dict[str, Any] = transition.detail
    if transition.action == "restrict_contact":
        # Decided before the decision named channels: the two a restriction always meant online.
        channels = detail.get("channels", [ResidentChannel.MESSAGES, ResidentChannel.EVIDENCE])
        await db.execute(
            _DECIDE,
            reference,
            [str(channel) for channel in channels],
            _day(detail["until"]),
            _day(detail["review_on"]),
            transition.at,
            transition.actor.id,
            transition.seq,
            bool(detail.get("stops_correspondence", False)),
        )
    elif transition.action == "lift_contact_restriction":
        await db.execute(_LIFT, reference, transition.at, transition.actor.id, transition.seq)


async def in_force(
    db: Executor,
    *,
    policy_id: str,
    reference: str | None,
    email: str | None,
    channel: ResidentChannel,
    today: date,
) -> Restriction | None:
    """The restriction of this council that closes `channel` to this person today, if any."""
    row = await db.fetchrow(_IN_FORCE, reference, email, today, channel.value, policy_id)
    if row is None:
        return None
    return Restriction(
        decided_on=row["reference"],
        until=row["until_on"],
        review_on=row["review_on"],
        stops_correspondence=row["stops_correspondence"],
    )


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
