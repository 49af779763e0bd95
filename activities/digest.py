"""The managers' daily overdue digest: one e-mail per manager and council, written to the notification outbox.

Each manager (staff with the manager role) gets, for each council with something to report, the complaints
that are overdue and those due within `DUE_SOON_WORKING_DAYS` working days of the council's calendar, and
the web submissions held in triage for a contact restriction whose sender's acknowledgement date is past or
near (status `held_in_triage`: no workflow counts them until an officer decides them). Only
references, stages, statuses, service areas, assignees and dates go in: never a complainant's details. A
manager named in a complaint (conflict of interest) does not see it. The outbox row's id is derived from the
day, the council and the manager, so a second run on the same day (a retry, a manual trigger) queues nothing
twice; the outbox dispatcher sends it like any other message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import BaseModel
from temporalio import activity

from domain.deadlines import calendar_for
from domain.models import FINAL_STATUSES, Role, Status
from domain.policy import Policy
from store.held_submissions import HeldSubmissionRepository

DUE_SOON_WORKING_DAYS = 2
TEMPLATE = "overdue_digest"
# A held web submission's status in the digest ("held in triage"): it is decided from the triage queue.
HELD_STATUS = "held_in_triage"

# Open complaints that are overdue, or whose next deadline falls before the latest horizon of any council
# (each council's own horizon is applied afterwards). A responded complaint's next deadline is the resident's
# window to escalate, nothing the council owes, so it counts only when an action is overdue.
_CANDIDATES = """
SELECT reference, policy_id, stage, status, service_area, assigned_to, overdue, next_deadline,
       acknowledge_by, acknowledged_at, respond_by, staff_complained_about
FROM complaints
WHERE status <> ALL($1::text[])
  AND (overdue OR (status <> 'responded' AND next_deadline <= $2))
ORDER BY policy_id, next_deadline NULLS LAST, reference
"""

_INSERT = """
INSERT INTO notifications (id, reference, policy_id, workflow_id, seq, template, audience, recipient, context)
VALUES ($1, NULL, $2, $3, 0, $4, 'manager', $5, $6)
ON CONFLICT (id) DO NOTHING
"""


LOCAL_TIME_ZONE = ZoneInfo("Europe/London")


class WriteDigests(BaseModel):
    """Write the digests of the local day (Europe/London) of `at`, or of `on` if given (an operator's
    rerun of a past day), from the read model as it is now."""

    at: datetime
    on: date | None = None

    def day(self) -> date:
        return self.on or self.at.astimezone(LOCAL_TIME_ZONE).date()


class DigestItem(BaseModel):
    reference: str
    stage: int
    status: str
    service_area: str
    assigned_to: str | None
    what: str  # acknowledgement, response or actions
    due: date | None


class ManagerDigest(BaseModel):
    notification_id: str
    manager: str
    policy_id: str
    overdue: list[str]
    due_soon: list[str]


class DigestResult(BaseModel):
    """The run's visible result (the Temporal UI shows it): who was sent what, by reference."""

    on: date
    managers: int
    digests: list[ManagerDigest]


def _item(row: Mapping[str, Any]) -> DigestItem:
    status = row["status"]
    acknowledging = (
        status in (Status.RECEIVED, Status.ESCALATION_REQUESTED, HELD_STATUS)
        and row["acknowledged_at"] is None
    )
    if acknowledging and row["acknowledge_by"] is not None:
        what, due = "acknowledgement", row["acknowledge_by"]
    elif status == Status.RESPONDED:
        what, due = "actions", None
    else:
        what, due = "response", row["respond_by"]
    return DigestItem(
        reference=row["reference"],
        stage=row["stage"],
        status=status,
        service_area=row["service_area"],
        assigned_to=row["assigned_to"],
        what=what,
        due=due,
    )


def digest_id(on: date, policy_id: str, manager: str) -> str:
    return f"overdue-digest:{on.isoformat()}:{policy_id}:{manager}"


class DigestActivities:
    def __init__(
        self,
        pool: asyncpg.Pool,
        policies: Mapping[str, Policy],
        service_areas: Mapping[str, list[str]] | None = None,
    ) -> None:
        self._pool = pool
        self._policies = policies
        # Need-to-know (STAFF_SERVICE_AREAS): a manager limited to some areas hears only of those.
        self._service_areas = dict(service_areas or {})

    async def _held(self, at: datetime, horizons: Mapping[str, datetime]) -> list[dict[str, Any]]:
        """Held web submissions still undecided (api/resident/withheld.py), as rows like a complaint's: their
        sender was told an acknowledgement date (or an early-resolution step's last day), yet no workflow
        counts it and nothing is acknowledged or assigned until an officer decides the item in triage."""
        latest = max(horizons.values()).date()
        rows: list[dict[str, Any]] = []
        for held in await HeldSubmissionRepository(self._pool).undecided_told_by(latest):
            policy = self._policies.get(held.policy_id)
            if policy is None or held.told is None:
                continue
            deadline = calendar_for(policy).end_of_day(held.told)
            rows.append(
                {
                    "reference": held.reference,
                    "policy_id": held.policy_id,
                    "stage": 1,
                    "status": HELD_STATUS,
                    "service_area": held.service_area,
                    "assigned_to": None,
                    "overdue": deadline < at,
                    "next_deadline": deadline,
                    "acknowledge_by": held.acknowledge_by,
                    "acknowledged_at": None,
                    "respond_by": held.respond_by,
                    "staff_complained_about": [],
                }
            )
        return rows

    @activity.defn(name="write_overdue_digests")
    async def write_overdue_digests(self, request: WriteDigests) -> DigestResult:
        """Queue today's digest for every manager and council with something to report; return what went."""
        on = request.day()
        horizons: dict[str, datetime] = {}
        for policy in self._policies.values():
            calendar = calendar_for(policy)
            last_day = calendar.add_working_days(on, DUE_SOON_WORKING_DAYS)
            horizons[policy.id] = calendar.end_of_day(last_day)
        if not horizons:
            return DigestResult(on=on, managers=0, digests=[])
        rows = await self._pool.fetch(
            _CANDIDATES, [status.value for status in FINAL_STATUSES], max(horizons.values())
        )
        managers = [
            row["id"]
            for row in await self._pool.fetch(
                "SELECT id FROM staff_users WHERE role = $1 ORDER BY id", Role.MANAGER.value
            )
        ]
        by_policy: dict[str, list[Mapping[str, Any]]] = {}
        for row in [dict(row) for row in rows] + await self._held(request.at, horizons):
            horizon = horizons.get(row["policy_id"])
            due_soon = (
                row["next_deadline"] is not None and horizon is not None and row["next_deadline"] <= horizon
            )
            if row["overdue"] or due_soon:
                by_policy.setdefault(row["policy_id"], []).append(row)
        workflow_id = f"overdue-digest:{on.isoformat()}"
        declared = {
            (row["reference"], row["staff_id"])
            for row in await self._pool.fetch("SELECT reference, staff_id FROM staff_conflicts")
        }
        digests: list[ManagerDigest] = []
        async with self._pool.acquire() as connection, connection.transaction():
            for manager in managers:
                for policy_id, policy_rows in sorted(by_policy.items()):
                    # Need-to-know and conflicts of interest, as on reads: a manager limited to some service
                    # areas, named in a complaint or who declared a conflict on it does not hear of it.
                    areas = self._service_areas.get(manager)
                    visible = [
                        row
                        for row in policy_rows
                        if manager not in row["staff_complained_about"]
                        and (row["reference"], manager) not in declared
                        and (areas is None or row["service_area"] in areas)
                    ]
                    overdue = [_item(row) for row in visible if row["overdue"]]
                    due_soon = [_item(row) for row in visible if not row["overdue"]]
                    if not overdue and not due_soon:
                        continue
                    notification_id = digest_id(on, policy_id, manager)
                    context: dict[str, Any] = {
                        "on": on.isoformat(),
                        "working_days": DUE_SOON_WORKING_DAYS,
                        "overdue": [item.model_dump(mode="json") for item in overdue],
                        "due_soon": [item.model_dump(mode="json") for item in due_soon],
                    }
                    await connection.execute(
                        _INSERT,
                        notification_id,
                        policy_id,
                        workflow_id,
                        TEMPLATE,
                        manager,
                        json.loads(json.dumps(context)),
                    )
                    digests.append(
                        ManagerDigest(
                            notification_id=notification_id,
                            manager=manager,
                            policy_id=policy_id,
                            overdue=[item.reference for item in overdue],
                            due_soon=[item.reference for item in due_soon],
                        )
                    )
        activity.logger.info(
            "overdue digest for %s: %d messages to %d managers", on, len(digests), len(managers)
        )
        return DigestResult(on=on, managers=len(managers), digests=digests)
