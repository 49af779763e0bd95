"""Every Temporal Schedule the service runs, declared once here and created by one start-up step.

A scheduled job is a workflow started on a timetable (in the council's local time, Europe/London), so each
run is visible in the Temporal UI's Schedules page with its result. `ensure_schedules` is idempotent: an
existing schedule is updated to the declaration, never duplicated, so every worker may call it at start-up.
To add a job: write its workflow (registered in `worker.py`), then add one `ScheduledJob` to `scheduled_jobs`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

LOCAL_TIME_ZONE = "Europe/London"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledJob:
    """One schedule: which workflow runs, at what local time each day, with what single argument."""

    schedule_id: str
    workflow: str
    description: str
    hour: int
    minute: int = 0
    arg: Any = None
    # A run that is still going when the next is due is skipped, not queued: jobs are idempotent sweeps.
    run_timeout: timedelta = timedelta(hours=1)
    memo: dict[str, str] = field(default_factory=dict)


OVERDUE_DIGEST = "overdue-digest"
RECONCILE = "reconcile"


def scheduled_jobs() -> list[ScheduledJob]:
    """The service's schedules. Each issue that adds a job adds one entry here."""
    return [
        ScheduledJob(
            schedule_id="retention-purge",
            workflow="RetentionPurge",  # workflows/retention.py
            description="Destroy the personal data of complaints past their policy's retention period",
            hour=2,
            minute=30,
            arg={},  # a PurgeRequest with no fields set: retention measured at the run's own time
            run_timeout=timedelta(hours=6),
        ),
        ScheduledJob(
            schedule_id=OVERDUE_DIGEST,
            workflow="OverdueDigest",  # workflows/digest.py
            description="Daily e-mail to each manager: complaints overdue and due within 2 working days",
            hour=8,
        ),
        ScheduledJob(
            schedule_id=RECONCILE,
            workflow="Reconcile",  # workflows/reconcile.py
            description="Nightly: start lost intakes, repair read-model drift, flag missing workflows",
            hour=2,
            minute=30,
            run_timeout=timedelta(hours=4),
        ),
    ]


def build_schedule(job: ScheduledJob, task_queue: str) -> Schedule:
    args = [] if job.arg is None else [job.arg]
    return Schedule(
        action=ScheduleActionStartWorkflow(
            job.workflow,
            args=args,
            id=job.schedule_id,
            task_queue=task_queue,
            execution_timeout=job.run_timeout,
            memo={"description": job.description, **job.memo},
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(job.hour)],
                    minute=[ScheduleRange(job.minute)],
                    comment=job.description,
                )
            ],
            time_zone_name=LOCAL_TIME_ZONE,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_schedules(client: Client, task_queue: str, jobs: Sequence[ScheduledJob]) -> None:
    """Create each schedule, or bring an existing one in line with its declaration (idempotent)."""
    for job in jobs:
        schedule = build_schedule(job, task_queue)
        try:
            await client.create_schedule(job.schedule_id, schedule)
            log.info("schedule %s created", job.schedule_id)
        except ScheduleAlreadyRunningError:
            handle = client.get_schedule_handle(job.schedule_id)

            def replace(_: ScheduleUpdateInput, new: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=new)

            await handle.update(replace)
            log.info("schedule %s already existed; updated to its declaration", job.schedule_id)
