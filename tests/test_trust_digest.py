"""Issue 29 (11): the overdue digest honours need-to-know and conflicts of interest like reads do: a
manager limited to some service areas, or who declared a conflict on a complaint, does not hear of it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg
from temporalio.testing import ActivityEnvironment

from activities.digest import DigestActivities, WriteDigests
from domain.policy import Policy
from tests.factories import LONDON
from tests.test_schedules import _case, _end_of


async def test_a_managers_digest_leaves_out_other_areas_and_declared_conflicts(
    pool: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    manager = f"m-{uuid.uuid4().hex[:8]}"
    await pool.execute(
        "INSERT INTO staff_users (id, name, role, password_hash) VALUES ($1, 'Manager', 'manager', 'x')",
        manager,
    )
    today = datetime.now(UTC).astimezone(LONDON).date()
    received = datetime.combine(today - timedelta(days=30), time(10), tzinfo=LONDON)
    late: dict[str, Any] = {
        "status": "acknowledged",
        "overdue": True,
        "next_deadline": _end_of(today - timedelta(days=2)),
    }
    mine = await _case(pool, "bexley", received, service_area="waste", **late)
    other_area = await _case(pool, "bexley", received, service_area="housing-repairs", **late)
    conflicted = await _case(pool, "bexley", received, service_area="waste", **late)
    await pool.execute(
        "INSERT INTO staff_conflicts (reference, staff_id) VALUES ($1, $2)", conflicted, manager
    )
    activities = DigestActivities(pool, policies, {manager: ["waste"]})
    result = await ActivityEnvironment().run(
        activities.write_overdue_digests, WriteDigests(at=datetime.now(UTC), on=today)
    )
    [digest] = [d for d in result.digests if d.manager == manager and d.policy_id == "bexley"]
    assert mine in digest.overdue
    assert other_area not in digest.overdue and conflicted not in digest.overdue
