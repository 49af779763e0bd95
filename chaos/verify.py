"""After a fault: is every complaint whole? Rows, workflows, events, outbox, e-mails and audit rows are
compared with a complaint that was created and acknowledged while nothing failed (the baseline)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from core.temporal import workflow_id
from devstack.mail import list_messages
from store.db import create_pool


@dataclass
class Shape:
    """What one complaint leaves behind once created and acknowledged."""

    events: Counter[str]
    templates: Counter[str]
    audit: Counter[str]


@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)  # told it exists: no row or no workflow
    not_acknowledged: list[str] = field(default_factory=list)
    failed_workflows: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # an event, outbox row, e-mail or audit row missing
    duplicated: list[str] = field(default_factory=list)
    duplicated_emails_flagged: list[str] = field(default_factory=list)  # re-sent after a kill, staff told
    orphaned: list[str] = field(default_factory=list)  # rows no client was told of
    stuck_letters: list[str] = field(default_factory=list)
    timers_fired: bool | None = None

    def violations(self) -> int:
        return (
            len(self.lost)
            + len(self.not_acknowledged)
            + len(self.failed_workflows)
            + len(self.missing)
            + len(self.duplicated)
            + len(self.orphaned)
            + len(self.stuck_letters)
            + (0 if self.timers_fired in (True, None) else 1)
        )


async def shape_of(pool: asyncpg.Pool, reference: str) -> Shape:
    events = await pool.fetch("SELECT action FROM complaint_events WHERE reference = $1", reference)
    templates = await pool.fetch("SELECT template FROM notifications WHERE reference = $1", reference)
    audit = await pool.fetch(
        "SELECT action FROM audit_log WHERE reference = $1 AND action IN ('create', 'acknowledge')", reference
    )
    return Shape(
        events=Counter(row["action"] for row in events),
        templates=Counter(row["template"] for row in templates),
        audit=Counter(row["action"] for row in audit),
    )


def _compare(
    reference: str, what: str, got: Counter[str], expected: Counter[str], findings: Findings
) -> None:
    for name in set(got) | set(expected):
        if got[name] < expected[name]:
            findings.missing.append(f"{reference}: {what} {name} x{got[name]} (expected {expected[name]})")
        elif got[name] > expected[name]:
            findings.duplicated.append(f"{reference}: {what} {name} x{got[name]} (expected {expected[name]})")


async def settle(database_url: str, references: list[str], timeout: float = 120.0) -> list[str]:
    """Wait until no letter of these complaints is waiting or claimed; return those still unsettled."""
    pool = await create_pool(database_url, max_size=2)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            rows = await pool.fetch(
                "SELECT id, status FROM notifications WHERE reference = ANY($1::text[])"
                " AND status IN ('pending', 'sending')",
                references,
            )
            if not rows or loop.time() > deadline:
                return [f"{row['id']}: {row['status']}" for row in rows]
            await asyncio.sleep(1.0)
    finally:
        await pool.close()


async def verify(
    *,
    database_url: str,
    temporal: Client,
    mail_folder: Any,
    told_exists: list[str],
    told_acknowledged: set[str],
    known: set[str],
    baseline: Shape,
    run_references: list[str],
) -> Findings:
    """Check every complaint a client was told of, and look for rows nobody was told of.

    `known`: every reference any client (or the baseline) was told of, in every run so far;
    `run_references`: every case row created during this run (told of or not).
    """
    findings = Findings()
    findings.stuck_letters = await settle(database_url, told_exists)
    caught = Counter(message["notification_id"] for message in list_messages(mail_folder))
    pool = await create_pool(database_url, max_size=4)
    try:
        for reference in told_exists:
            row = await pool.fetchrow("SELECT status FROM complaints WHERE reference = $1", reference)
            status = await _workflow_status(temporal, reference)
            if row is None or status is None:
                findings.lost.append(f"{reference}: row {'ok' if row else 'MISSING'}, workflow {status}")
                continue
            if status in (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TERMINATED):
                findings.failed_workflows.append(f"{reference}: {status.name}")
            if reference in told_acknowledged and row["status"] != "acknowledged":
                findings.not_acknowledged.append(f"{reference}: {row['status']}")
            shape = await shape_of(pool, reference)
            _compare(reference, "event", shape.events, baseline.events, findings)
            _compare(reference, "outbox", shape.templates, baseline.templates, findings)
            _compare(reference, "audit", shape.audit, baseline.audit, findings)
            letters = await pool.fetch(
                "SELECT id, status, recovered FROM notifications WHERE reference = $1", reference
            )
            for letter in letters:
                copies = caught[letter["id"]]
                if letter["status"] == "sent" and copies == 0:
                    findings.missing.append(f"{reference}: e-mail {letter['id']} marked sent, never caught")
                elif letter["status"] in ("pending", "sending", "failed", "uncertain"):
                    findings.missing.append(f"{reference}: e-mail {letter['id']} {letter['status']}")
                elif copies > 1 and letter["recovered"]:
                    findings.duplicated_emails_flagged.append(
                        f"{letter['id']} x{copies} ({letter['recovered']})"
                    )
                elif copies > 1:
                    findings.duplicated.append(f"{reference}: e-mail {letter['id']} x{copies}, not flagged")
        for reference in run_references:
            if reference not in known:
                has_workflow = await _workflow_status(temporal, reference)
                findings.orphaned.append(
                    f"{reference}: workflow {has_workflow.name if has_workflow else 'none'}"
                )
    finally:
        await pool.close()
    return findings


async def _workflow_status(temporal: Client, reference: str) -> WorkflowExecutionStatus | None:
    for _ in range(30):
        try:
            described = await temporal.get_workflow_handle(workflow_id(reference)).describe()
            return described.status
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            await asyncio.sleep(1.0)  # the server is still coming back
    return None


async def failed_workflow_count(temporal: Client) -> int:
    count = await temporal.count_workflows("ExecutionStatus = 'Failed' OR ExecutionStatus = 'Terminated'")
    return count.count
