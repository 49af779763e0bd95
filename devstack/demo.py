"""Demo data for the dev stack: staff users with a known password and a few complaints in different states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.client import Client

from api.intake import open_case
from domain.models import Actor, Channel, Complainant, Intake, Role
from domain.policy import Policy
from store.staff import DEMO_STAFF, StaffRepository

DEMO_PASSWORD = "demo"

_DEMO_COMPLAINTS = [
    ("bexley", "housing-repairs", "Damp in the bedroom reported three times and not fixed.", "Fix the damp."),
    (
        "westminster",
        "waste",
        "Bins missed four weeks running on Elm Street.",
        "Collect on the scheduled day.",
    ),
    ("barking-dagenham", "parking", "Permit renewal lost twice; fined meanwhile.", "Cancel the fine."),
    ("council-003", "council-tax", "Direct debit taken twice in October.", "Refund the second payment."),
    (
        "council-004",
        "planning",
        "No reply to three letters about a neighbour's extension.",
        "A written answer.",
    ),
    ("complaint-handling-code", "housing-repairs", "Boiler out for two weeks in winter.", "Compensation."),
]


async def seed_staff(pool: asyncpg.Pool) -> None:
    repository = StaffRepository(pool)
    for user in DEMO_STAFF:
        await repository.upsert(user=user, password=DEMO_PASSWORD)


async def seed_complaints(
    pool: asyncpg.Pool, temporal: Client, task_queue: str, policies: dict[str, Policy]
) -> int:
    """Open the demo complaints once: nothing is added when complaints exist (a restart keeps data)."""
    if await pool.fetchval("SELECT count(*) FROM complaints"):
        return 0
    officer = Actor(id="olivia.officer", role=Role.COMPLAINTS_OFFICER, name="Olivia Officer")
    now = datetime.now(UTC)
    opened = 0
    for days_ago, (policy_id, area, summary, outcome) in enumerate(_DEMO_COMPLAINTS):
        if policy_id not in policies:
            continue
        intake = Intake(
            policy_id=policy_id,
            received_at=now - timedelta(days=days_ago * 2),
            channel=Channel.EMAIL,
            complainant=Complainant(
                name=f"Demo Resident {days_ago + 1}", email=f"resident{days_ago + 1}@example.org"
            ),
            service_area=area,
            summary=summary,
            desired_outcome=outcome,
        )
        await open_case(
            pool=pool,
            temporal=temporal,
            task_queue=task_queue,
            policy=policies[policy_id],
            intake=intake,
            actor=officer,
        )
        opened += 1
    return opened
