"""The texts of a case that only PostgreSQL keeps (issue 23): the workflow tracks promised actions without
their descriptions, the response-date ledger without the staff's reasons, and a Stage 2 without what was
asked. The record activity (and the read-model repair) put them back from the event that wrote them, or
from what the case record already shows, when it writes the row and the letters."""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from domain.models import CaseIntake, Complainant, Intake, LedgerEntry, Notification, Transition

Executor = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy

# The descriptions of a complaint's promised actions, by id, as the case record holds them.
_ACTION_DESCRIPTIONS = """
SELECT a->>'id' AS id, a->>'description' AS description
FROM complaints, jsonb_array_elements(COALESCE(state->'actions', '[]'::jsonb)) AS a WHERE reference = $1
"""

# The reasons the case record's ledger shows, by entry (its moment and kind).
_LEDGER_REASONS = """
SELECT e->>'at' AS at, e->>'kind' AS kind, e->>'reason' AS reason
FROM complaints, jsonb_array_elements(COALESCE(state->'ledger', '[]'::jsonb)) AS e WHERE reference = $1
"""

# What a stage was asked for: the request that opened it (the latest, if it was asked again).
_STAGE_REQUEST = """
SELECT detail->>'reasons' AS reasons, detail->>'outcome_wanted' AS outcome_wanted FROM complaint_events
WHERE reference = $1 AND action = 'request_escalation' AND stage = $2 ORDER BY seq DESC LIMIT 1
"""

# What a case row rebuilt from its workflow says of the story: the workflow never had it (issue 23).
RESTORED_SUMMARY = "(restored from the workflow: the case record's text was not in the backup)"


def restored_intake(facts: CaseIntake) -> Intake:
    """An intake for a case row lost from PostgreSQL and rebuilt from its workflow (only if the row is
    missing: an existing row is never overwritten). The story and the people were the row's alone."""
    return Intake(
        policy_id=facts.policy_id,
        received_at=facts.received_at,
        channel=facts.channel,
        complainant=Complainant(),
        anonymous=facts.anonymous,
        service_area=facts.service_area,
        summary=RESTORED_SUMMARY,
        staff_complained_about=list(facts.staff_complained_about),
        handled_by_senior=facts.handled_by_senior,
        related_to=facts.related_to,
        matter_arose_on=facts.matter_arose_on,
        tenure=facts.tenure,
    )


# The ledger entries whose reason a staff member wrote (an extension, a manager's recalculation).
STAFF_LEDGER_KINDS = ("extended", "recalculated")


async def ledger_with_reasons(
    db: Executor, reference: str, ledger: list[LedgerEntry], transition: Transition | None
) -> list[dict[str, Any]]:
    """The stage's ledger with the staff's reasons, which the workflow does not keep (issue 23): an entry's
    reason is the event's that added it, else the one the case record already shows."""
    known = {(row["at"], row["kind"]): row["reason"] for row in await db.fetch(_LEDGER_REASONS, reference)}
    entries = []
    for entry in ledger:
        written = entry.model_dump(mode="json")
        if not written["reason"]:
            added_now = (
                transition is not None and entry.at == transition.at and entry.kind in STAFF_LEDGER_KINDS
            )
            reason = transition.detail.get("reason") if added_now and transition is not None else None
            written["reason"] = str(reason) if reason else known.get((written["at"], written["kind"])) or ""
        entries.append(written)
    return entries


async def action_descriptions(db: Executor, reference: str, transition: Transition | None) -> dict[str, str]:
    known = {row["id"]: row["description"] or "" for row in await db.fetch(_ACTION_DESCRIPTIONS, reference)}
    promised = (transition.detail.get("descriptions") if transition is not None else None) or {}
    return known | {str(key): str(value) for key, value in promised.items()}


async def with_texts(
    db: Executor, reference: str, notification: Notification, descriptions: dict[str, str]
) -> Notification:
    """A letter's texts that the workflow does not keep, from the case record: a promised action's
    description, and what a Stage 2 was asked for (its reasons, else the complaint's story)."""
    context = dict(notification.context)
    action_id = context.get("action_id")
    if action_id is not None and "description" not in context:
        context["description"] = descriptions.get(str(action_id), "")
    stage = context.pop("story_of_stage", None)
    if stage is not None:
        asked = await db.fetchrow(_STAGE_REQUEST, reference, int(stage))
        if asked is not None and asked["reasons"]:
            context["summary"] = asked["reasons"]
        if asked is not None and asked["outcome_wanted"]:
            context["desired_outcome"] = asked["outcome_wanted"]
    if context == notification.context:
        return notification
    return notification.model_copy(update={"context": context})
