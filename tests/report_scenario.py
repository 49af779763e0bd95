"""A known set of complaints for the report tests, built through the real workflow (time-skipping server).

All five are received at 09:00 London on a quiet Monday (day 0: no bank holiday for 90 days), under a copy of
Bexley's policy with an id of its own (so no other test's complaints count) and 2,000 homes (1,000 of them
low-cost rental, 500 low-cost home ownership). Bexley's windows: acknowledge in 2 working days, respond in
15 from receipt (both stages), officers may extend by 10. The Complaint Handling Code's clock (CH02):
acknowledge in 5, answer in 10 (Stage 2: 20) working days from the acknowledgement, extensions up to 10 (20).
Tenures: A and B low-cost rental, C low-cost home ownership, D not recorded, E leaseholder.

- A (housing-repairs): day 1 acknowledged; day 3 answered, upheld, with an apology, 150.00 of redress and one
  action (due day 40); root cause "delay".
- B (housing-repairs): day 3 acknowledged (late: due day 2); day 4 answered, not upheld; day 5 Stage 2 asked
  for; day 6 acknowledged; day 8 answered, partially upheld, by a reviewer (final: closed); day 9 referred to
  the ombudsman; day 10 its decision.
- C (waste): day 1 acknowledged; day 10 extended to day 20; day 18 answered, partially upheld, with one
  action; day 19 the action done; root cause "contractor".
- D (waste): day 1 declined (service-request).
- E (parking): day 1 acknowledged; day 2 withdrawn.
(Days are working days after the Monday.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain.models import ActionItem, Learning, Outcome, Remedy, RemedyKind
from domain.policy import Policy
from domain.tsm import Tenure
from tests.factories import (
    INVESTIGATOR,
    OFFICER,
    REVIEWER,
    act,
    intake,
    move_to,
    open_complaint,
    start_in_quiet_week,
    weekdays_after,
)
from tests.scenario_helpers import Handle, at

HOMES = 2_000
HOMES_BY_TENURE = {Tenure.LOW_COST_RENTAL: 1_000, Tenure.LOW_COST_HOME_OWNERSHIP: 500}
TENURES = {
    "A": Tenure.LOW_COST_RENTAL,
    "B": Tenure.LOW_COST_RENTAL,
    "C": Tenure.LOW_COST_HOME_OWNERSHIP,
    "D": None,
    "E": Tenure.LEASEHOLDER,
}


def report_policies(policies: dict[str, Policy]) -> tuple[dict[str, Policy], str]:
    """The shipped policies plus a `reportshire-...` one: Bexley's rules, a homes figure, and an id of its own
    (every test run's complaints land on the same quiet Monday, in one database)."""
    policy_id = f"reportshire-{uuid.uuid4().hex[:8]}"
    reportshire = policies["bexley"].model_copy(
        update={"id": policy_id, "name": "Reportshire", "homes": HOMES, "homes_by_tenure": HOMES_BY_TENURE}
    )
    return {**policies, policy_id: reportshire}, policy_id


@dataclass
class KnownSet:
    policy: Policy
    monday: date
    refs: dict[str, str]

    @property
    def policy_id(self) -> str:
        return self.policy.id

    def day(self, working_days: int) -> date:
        return weekdays_after(self.monday, working_days)


async def build_known_set(
    env: WorkflowEnvironment, task_queue: str, policies: dict[str, Policy], policy_id: str
) -> KnownSet:
    """Run the five complaints above under `policy_id` (a worker must be polling `task_queue`)."""
    policy = policies[policy_id]
    start = await start_in_quiet_week(env, days=90)
    monday = start.date()
    areas = {"A": "housing-repairs", "B": "housing-repairs", "C": "waste", "D": "waste", "E": "parking"}
    handles: dict[str, Handle] = {}
    for name, area in areas.items():
        handles[name] = await open_complaint(
            env, task_queue, intake(policy_id, start, service_area=area, tenure=TENURES[name]), policy=policy
        )
    known = KnownSet(
        policy, monday, {name: handle.id.removeprefix("complaint-") for name, handle in handles.items()}
    )

    async def on(day: int, hour: int = 10) -> None:
        await move_to(env, at(known.day(day), hour))

    await on(1)
    for name in ("A", "C", "E"):
        await act(handles[name], "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await act(
        handles["D"],
        "decline",
        cmd.Decline(actor=OFFICER, exclusion_code="service-request", reason="A first report."),
    )
    await on(2)
    await act(handles["E"], "withdraw", cmd.Withdraw(actor=OFFICER, reason="Resolved informally."))
    await on(3)
    await act(handles["B"], "acknowledge", cmd.Acknowledge(actor=OFFICER))
    remedies = [
        Remedy(kind=RemedyKind.APOLOGY, description="We apologise."),
        Remedy(kind=RemedyKind.FINANCIAL_REDRESS, description="For the furniture.", amount_pence=15_000),
    ]
    action = ActionItem(id="fix-damp", description="Treat the damp", owner="repairs", due_on=known.day(40))
    await act(
        handles["A"],
        "respond",
        cmd.Respond(
            actor=INVESTIGATOR,
            outcome=Outcome.UPHELD,
            findings="Late.",
            remedies=remedies,
            actions=[action],
            learning=Learning(root_cause="delay", lessons="Damp reports waited for a routine slot."),
        ),
    )
    await on(4)
    await act(
        handles["B"],
        "respond",
        cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="On time."),
    )
    await on(5)
    await act(handles["B"], "request_escalation", cmd.RequestEscalation(actor=OFFICER, reasons="Disagree."))
    await on(6)
    await act(handles["B"], "acknowledge", cmd.Acknowledge(actor=REVIEWER))
    await on(8)
    await act(
        handles["B"],
        "respond",
        cmd.Respond(actor=REVIEWER, outcome=Outcome.PARTIALLY_UPHELD, findings="Partly right."),
    )
    await on(9)
    await act(
        handles["B"], "refer_to_ombudsman", cmd.ReferToOmbudsman(actor=OFFICER, ombudsman_reference="LG-1")
    )
    await on(10)
    await act(
        handles["B"],
        "record_ombudsman_decision",
        cmd.RecordOmbudsmanDecision(
            actor=OFFICER,
            determination="fault_causing_injustice",
            complaint_handling_failure=True,
            decision="Maladministration found",
        ),
    )
    await act(
        handles["C"], "extend", cmd.Extend(actor=INVESTIGATOR, new_respond_by=known.day(20), reason="Survey.")
    )
    await on(18)
    await act(
        handles["C"],
        "respond",
        cmd.Respond(
            actor=INVESTIGATOR,
            outcome=Outcome.PARTIALLY_UPHELD,
            findings="Partly.",
            actions=[ActionItem(id="bins", description="Fix the round", owner="waste", due_on=known.day(25))],
            learning=Learning(root_cause="contractor"),
        ),
    )
    await on(19)
    await act(handles["C"], "complete_action", cmd.CompleteAction(actor=OFFICER, action_id="bins"))
    return known


async def stage_rows(pool: asyncpg.Pool, known: KnownSet) -> dict[tuple[str, int], asyncpg.Record]:
    names = {reference: name for name, reference in known.refs.items()}
    rows = await pool.fetch(
        "SELECT * FROM complaint_stages WHERE reference = ANY($1::text[])", list(known.refs.values())
    )
    return {(names[row["reference"]], row["stage"]): row for row in rows}
