"""Council policies and the deadline planner."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import Policies
from api.errors import PROBLEM_RESPONSES, ProblemError
from domain import deadlines
from domain.explain import explain
from domain.inputs import EARLIEST, LATEST, latest_receipt
from domain.policy import Policy, SentBy

router = APIRouter(prefix="/api/policies", tags=["policies"])


class PolicySummary(BaseModel):
    id: str
    name: str
    nation: str
    ombudsman: str
    stages: int


class DeadlinePlan(BaseModel):
    policy_id: str
    stage: int
    received: date
    acknowledge_by: date
    respond_by: date
    extension_limit_by: date | None
    escalation_request_by: date | None = None
    response_received_on: date | None = None
    # Issue 28: the early-resolution step before Stage 1, when the policy has one.
    early_resolution_by: date | None = None


def _policy(policies: dict[str, Policy], policy_id: str) -> Policy:
    try:
        return policies[policy_id]
    except KeyError:
        raise ProblemError(404, "Not found", f"no policy {policy_id!r}") from None


@router.get("", responses=PROBLEM_RESPONSES)
async def list_policies(policies: Policies) -> list[PolicySummary]:
    """Every council policy this service runs."""
    return [
        PolicySummary(
            id=policy.id,
            name=policy.name,
            nation=policy.nation.value,
            ombudsman=policy.ombudsman.body.value,
            stages=len(policy.stages),
        )
        for policy in sorted(policies.values(), key=lambda policy: policy.id)
    ]


@router.get("/{policy_id}", responses=PROBLEM_RESPONSES)
async def get_policy(policy_id: str, policies: Policies) -> Policy:
    """One policy, in full."""
    return _policy(policies, policy_id)


def _check_range(name: str, value: date | datetime | None, latest: date) -> None:
    """A planned date lies in the calendar the service counts in (a year-1 or year-9999 date is a typo)."""
    if value is None:
        return
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= latest:
        raise ProblemError(
            422, "Invalid request", f"{name}: must be between {EARLIEST.isoformat()} and {latest.isoformat()}"
        )


@router.get("/{policy_id}/deadlines", responses=PROBLEM_RESPONSES)
async def plan_deadlines(
    policy_id: str,
    policies: Policies,
    received: Annotated[date | datetime, Query(description="Date or RFC 3339 datetime of receipt")],
    stage: Annotated[int, Query(ge=1, le=2)] = 1,
    acknowledged: date | None = None,
    responded: date | None = None,
    response_sent_by: Annotated[
        SentBy, Query(description="How the response was sent: it decides when the complainant got it")
    ] = SentBy.EMAIL,
    matter_arose_on: Annotated[
        date | None, Query(description="When the matter arose (a window may count from it)")
    ] = None,
) -> DeadlinePlan:
    """The dates a complaint received then would run to under this policy."""
    policy = _policy(policies, policy_id)
    if stage not in {s.number for s in policy.stages}:
        raise ProblemError(422, "Invalid request", f"policy {policy_id!r} has no stage {stage}")
    if isinstance(received, datetime) and received.tzinfo is None:
        raise ProblemError(422, "Invalid request", "received: a datetime needs a timezone offset (e.g. Z)")
    _check_range("received", received, latest_receipt(datetime.now(UTC).date()))
    _check_range("acknowledged", acknowledged, LATEST)
    _check_range("responded", responded, LATEST)
    _check_range("matter_arose_on", matter_arose_on, LATEST)
    try:
        planned = deadlines.plan_stage(
            policy, stage, received, acknowledged, responded, response_sent_by, matter_arose_on
        )
    except OverflowError as error:  # a window that runs past the calendar's end (guarded above; kept safe)
        raise ProblemError(422, "Invalid request", "the dates run past the end of the calendar") from error
    return DeadlinePlan(
        policy_id=policy.id,
        stage=stage,
        received=planned.day_zero,
        acknowledge_by=planned.acknowledge_by,
        respond_by=planned.respond_by,
        extension_limit_by=planned.extension_limit_by,
        escalation_request_by=planned.escalation_request_by,
        response_received_on=(
            deadlines.response_received_on(policy, responded, response_sent_by) if responded else None
        ),
        early_resolution_by=deadlines.early_resolution_by(policy, received) if stage == 1 else None,
    )


# --- issue 28: the policy in plain English (what `complaints policy explain` prints) ---
class ExplanationSection(BaseModel):
    title: str
    lines: list[str]


@router.get("/{policy_id}/explanation", responses=PROBLEM_RESPONSES)
async def explain_policy(
    policy_id: str,
    policies: Policies,
    received: Annotated[
        date | None, Query(description="The worked example's date of receipt (default today)")
    ] = None,
) -> list[ExplanationSection]:
    """What the policy means, in plain English, with a worked example date for each window: for a council's
    complaints manager to check the file against the published procedure (the console's council page)."""
    policy = _policy(policies, policy_id)
    _check_range("received", received, latest_receipt(datetime.now(UTC).date()))
    example = received or deadlines.calendar_for(policy).local_date(datetime.now(UTC))
    return [
        ExplanationSection(title=section.title, lines=list(section.lines))
        for section in explain(policy, example)
    ]
