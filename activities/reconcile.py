"""The nightly reconciliation of case rows with workflows (workflows/reconcile.py runs it page by page).

For each open case row (a closed one's workflow may have left Temporal's retention, which is no fault):
- its workflow exists and the row lags behind it (a lost write): the row and event trail are rewritten from
  the workflow's state, by the same code as `complaints rebuild-read-model` (store/rebuild.py);
- its workflow does not exist, and the row is an intake that was stored but never started (releases before
  Update-with-Start intake stored the row first, so Temporal being unreachable at that moment left such a
  row; a restored backup can too): the workflow is started from the row, with its council's policy frozen
  into the start as the API does;
- its workflow does not exist and it cannot safely be started (it had moved on, or it names staff, whose
  complaint may need a senior handler the row does not record): it is flagged to staff in the audit log
  (`workflow_missing`) and logged, and counted.
- a web submission held in triage for a contact restriction (no workflow until an officer decides it) still
  undecided past the acknowledgement date its sender was told: flagged (`held_submission_overdue`), logged
  and counted with the flagged ones.
And the other way round: a running complaint workflow with no case row at all (a lost row) gets its row and
event trail back from its state (`restore_missing_rows`; it needs a server that lists workflows, which the
time-skipping test server cannot).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

import asyncpg
from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.common import (
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core import search_attributes as sa
from core.stuck import workflow_health
from domain.deadlines import calendar_for
from domain.models import FINAL_STATUSES, Actor, ComplaintState, Intake, OpenComplaint, Role, Status
from domain.policy import Policy
from store.complaints import ComplaintRepository
from store.held_submissions import HeldSubmissionRepository
from store.rebuild import write_workflow_state
from store.workflow_stuck import clear_stuck, record_stuck
from workflows.complaint.limits import TASK_TIMEOUT
from workflows.complaint.version import CODE_VERSION

log = logging.getLogger(__name__)

_OPEN_ROWS = """
SELECT c.reference, c.workflow_id, c.policy_id, c.status, c.last_seq, c.created_at, c.created_by,
       c.channel, c.service_area, c.complainant, c.representative, c.anonymous, c.summary, c.desired_outcome,
       c.staff_complained_about, c.related_to, c.received_at,
       (SELECT count(*) FROM complaint_events e WHERE e.reference = c.reference) AS events,
       (SELECT role FROM staff_users s WHERE s.id = c.created_by) AS creator_role
FROM complaints c
WHERE c.status <> ALL($1::text[]) AND ($2::text IS NULL OR c.reference > $2)
ORDER BY c.reference
LIMIT $3
"""


class ReconcilePage(BaseModel):
    """One page of open case rows, after `after` in reference order."""

    after: str | None = None
    limit: int = 200
    # A never-started intake younger than this instant may still be being started by the API: left alone.
    stored_before: datetime


class ReconcilePageResult(BaseModel):
    checked: int
    started: list[str]
    repaired: list[str]
    flagged: list[str]
    last_reference: str | None  # None: no rows left
    # Complaints whose workflow task keeps failing (complaints_workflow_stuck): operations must fix them.
    stuck: list[str] = []


class RestoreRows(BaseModel):
    """Which workflows to look at: running complaints (a closed one's row is kept by retention rules)."""

    query: str = 'WorkflowType = "Complaint" AND ExecutionStatus = "Running"'
    batch_size: int = 500


class ReconcileActivities:
    def __init__(
        self, pool: asyncpg.Pool, client: Client, task_queue: str, policies: Mapping[str, Policy]
    ) -> None:
        self._pool = pool
        self._client = client
        self._task_queue = task_queue
        self._policies = policies

    @activity.defn(name="reconcile_page")
    async def reconcile_page(self, request: ReconcilePage) -> ReconcilePageResult:
        rows = await self._pool.fetch(
            _OPEN_ROWS, [status.value for status in FINAL_STATUSES], request.after, request.limit
        )
        result = ReconcilePageResult(
            checked=len(rows),
            started=[],
            repaired=[],
            flagged=[],
            last_reference=rows[-1]["reference"] if len(rows) == request.limit else None,
        )
        for row in rows:
            activity.heartbeat(row["reference"])
            outcome = await self._reconcile(row, request.stored_before)
            if outcome is not None:
                getattr(result, outcome).append(row["reference"])
        if request.after is None:  # once a run, on its first page
            result.flagged += await self._flag_held_overdue()
        return result

    async def _flag_held_overdue(self) -> list[str]:
        """Web submissions held in triage for a contact restriction (api/resident/withheld.py) still undecided
        past the acknowledgement date their sender was told (or an early-resolution step's last day): no
        workflow counts them, so they are flagged here (`held_submission_overdue`, codes only)."""
        now = datetime.now(UTC)
        flagged: list[str] = []
        for held in await HeldSubmissionRepository(self._pool).undecided_told_by(now.date()):
            policy = self._policies.get(held.policy_id)
            if policy is None or held.told is None or calendar_for(policy).end_of_day(held.told) >= now:
                continue
            await self._pool.execute(
                "INSERT INTO audit_log (actor_id, actor_role, action, reference, after)"
                " VALUES ('system', 'system', 'held_submission_overdue', NULL, $1)",
                {
                    "inbound_id": str(held.inbound_id),
                    "answered_with": held.reference,
                    "told_by": str(held.told),
                },
            )
            log.error(
                "held submission %s undecided in triage past the date its sender was told (%s)",
                held.reference,
                held.told,
            )
            flagged.append(held.reference)
        return flagged

    @activity.defn(name="restore_missing_rows")
    async def restore_missing_rows(self, request: RestoreRows) -> list[str]:
        """Write the case row of every listed workflow that has none; return their references."""
        restored: list[str] = []
        batch: list[str] = []
        try:
            async for execution in self._client.list_workflows(request.query, page_size=request.batch_size):
                batch.append(execution.id)
                if len(batch) >= request.batch_size:
                    restored += await self._restore(batch)
                    batch = []
                    activity.heartbeat(len(restored))
            restored += await self._restore(batch)
        except RPCError as error:
            if error.status is not RPCStatusCode.UNIMPLEMENTED:
                raise
            log.warning("this Temporal server cannot list workflows: lost case rows not looked for")
        return restored

    async def _restore(self, workflow_ids: list[str]) -> list[str]:
        if not workflow_ids:
            return []
        known = {
            row["workflow_id"]
            for row in await self._pool.fetch(
                "SELECT workflow_id FROM complaints WHERE workflow_id = ANY($1::text[])", workflow_ids
            )
        }
        restored: list[str] = []
        for workflow_id in dict.fromkeys(workflow_ids):  # a continued-as-new workflow is listed per run
            if workflow_id in known:
                continue
            try:
                state = await self._client.get_workflow_handle(workflow_id).query(
                    "state", result_type=ComplaintState
                )
            except (WorkflowQueryFailedError, RPCError) as error:
                log.warning("could not read %s to restore its row: %s", workflow_id, error)
                continue
            await write_workflow_state(ComplaintRepository(self._pool), workflow_id=workflow_id, state=state)
            log.warning(
                "case row of %s was missing: restored from its workflow",
                state.reference,
                extra={"reference": state.reference},
            )
            restored.append(state.reference)
        return restored

    async def _reconcile(self, row: asyncpg.Record, stored_before: datetime) -> str | None:
        """Bring one row in line; return which list it belongs on (started, repaired, flagged) or None."""
        reference: str = row["reference"]
        handle = self._client.get_workflow_handle(row["workflow_id"])
        health = await workflow_health(self._client, row["workflow_id"])
        if health.stuck_attempts:
            await record_stuck(self._pool, reference=reference, workflow_id=handle.id, health=health)
            log.error(
                "complaints_workflow_stuck: %s, %s", reference, health.reason, extra={"reference": reference}
            )
            return "stuck"
        await clear_stuck(self._pool, reference=reference)
        try:
            state = await handle.query("state", result_type=ComplaintState)
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise  # Temporal unreachable: the activity is retried
            return await self._missing(row, stored_before)
        except WorkflowQueryFailedError as error:
            return await self._flag(reference, f"its workflow could not be read: {error}")
        if state.seq > row["last_seq"] or state.events > row["events"]:
            await write_workflow_state(ComplaintRepository(self._pool), workflow_id=handle.id, state=state)
            log.warning(
                "read model of %s repaired from its workflow (row at event %d, workflow at %d)",
                reference,
                row["last_seq"],
                state.seq,
                extra={"reference": reference},
            )
            return "repaired"
        return None

    async def _missing(self, row: asyncpg.Record, stored_before: datetime) -> str | None:
        reference: str = row["reference"]
        never_started = row["last_seq"] == -1 and row["status"] == Status.RECEIVED.value
        if never_started and row["created_at"] >= stored_before:
            return None  # an older API may be starting it right now
        if not never_started:
            return await self._flag(reference, "its workflow is missing and the complaint had moved on")
        if row["policy_id"] not in self._policies:
            return await self._flag(reference, "its workflow was never started and its policy is not loaded")
        if row["staff_complained_about"]:
            return await self._flag(
                reference, "its workflow was never started and it names staff: start it by hand"
            )
        try:
            await self._start(row)
        except WorkflowAlreadyStartedError:
            return None  # started meanwhile (by the API's retry): nothing to do
        log.warning("complaint %s had no workflow: started it", reference, extra={"reference": reference})
        return "started"

    async def _start(self, row: asyncpg.Record) -> None:
        """Start the workflow of a stored intake, as the API's `open_case` does."""
        intake = Intake(
            policy_id=row["policy_id"],
            received_at=row["received_at"],
            channel=row["channel"],
            complainant=row["complainant"],
            representative=row["representative"],
            anonymous=row["anonymous"],
            service_area=row["service_area"],
            summary=row["summary"],
            desired_outcome=row["desired_outcome"],
            staff_complained_about=list(row["staff_complained_about"]),
            related_to=row["related_to"],
        )
        created_by: str = row["created_by"]
        role = (
            Role.RESIDENT if created_by == "resident" else Role(row["creator_role"] or "complaints_officer")
        )
        await self._client.start_workflow(
            "Complaint",
            OpenComplaint(
                reference=row["reference"],
                intake=intake,
                opened_by=Actor(id=created_by, role=role),
                policy=self._policies[intake.policy_id],
            ),
            id=row["workflow_id"],
            task_queue=self._task_queue,
            task_timeout=TASK_TIMEOUT,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=sa.at_start(intake, CODE_VERSION),
        )

    async def _flag(self, reference: str, why: str) -> str:
        await self._pool.execute(
            "INSERT INTO audit_log (actor_id, actor_role, action, reference, after)"
            " VALUES ('system', 'system', 'workflow_missing', $1, $2)",
            reference,
            {"reason": why},
        )
        log.error("complaint %s flagged: %s", reference, why, extra={"reference": reference})
        return "flagged"
