"""Equality monitoring: an officer records a resident's answers (given on paper or by phone), and managers
read the answers in aggregate only, with small numbers suppressed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api import equality
from api.deps import Complaint, CurrentStaff, Pool, RequestId, require
from api.errors import PROBLEM_RESPONSES, ProblemError
from api.report_period import in_order, in_service_years
from domain.equality import (
    MIN_PERIOD_DAYS,
    MIN_RESPONDENTS,
    SUPPRESS_BELOW,
    EqualityAnswers,
    question_shown,
    responses_shown,
    whole_months,
)
from store.audit import AuditRepository
from store.equality import EqualityRepository

router = APIRouter(tags=["equality monitoring"])


class Recorded(BaseModel):
    recorded: bool


@router.post("/api/complaints/{reference}/equality", status_code=201, responses=PROBLEM_RESPONSES)
async def record_equality(
    body: EqualityAnswers, complaint: Complaint, staff: CurrentStaff, pool: Pool, request_id: RequestId
) -> Recorded:
    """Record the complainant's equality monitoring answers (optional, every question may be left out).
    They are stored apart from the complaint and never shown with it; 409 if already given."""
    require("record_equality", staff)
    async with pool.acquire() as connection, connection.transaction():
        await equality.submit(connection, complaint, body, "officer")
        # The audit says that it was recorded, never what was answered.
        await AuditRepository(connection).append_by(
            staff, "record_equality", reference=complaint.reference, request_id=request_id
        )
    return Recorded(recorded=True)


class EqualityReport(BaseModel):
    from_: date = Field(alias="from")
    to: date
    policy_id: str | None
    suppressed_below: int = SUPPRESS_BELOW
    minimum_respondents: int = MIN_RESPONDENTS
    responses: int | str = Field(description='How many answered; "<10" when fewer than 10')
    counted_from: date = Field(description="The first day counted: the period widened to whole months")
    counted_to: date = Field(description="The last day counted")
    questions: dict[str, dict[str, int]] = Field(
        description='Per question, how many gave each answer ("not_answered" included). Nothing when fewer'
        " than 10 answered in the period, or when some council's month in it had between 1 and 9"
        " respondents (see `withheld`); an answer given by fewer than 5 is not named but counted, with the"
        " next smallest, into `suppressed`."
    )
    withheld: str | None = Field(default=None, description="Why no answer is shown, when none is")


@router.get("/api/reports/equality", responses=PROBLEM_RESPONSES, response_model_by_alias=True)
async def equality_report(
    staff: CurrentStaff,
    pool: Pool,
    request_id: RequestId,
    since: Annotated[date, Query(alias="from", description="First day (answers given on or after)")],
    until: Annotated[date, Query(alias="to", description="Last day (answers given on or before)")],
    policy: Annotated[str | None, Query(max_length=100)] = None,
) -> EqualityReport:
    """Equality monitoring in aggregate (managers): counts of each answer over a period of at least 90 days,
    counted in whole months that have ended (`counted_from`, `counted_to`), nothing below 10 respondents nor
    when a council's month in it had 1 to 9 (`withheld`), answers given by fewer than 5 merged into
    `suppressed`, so that no one can be picked out, not even by comparing two reports."""
    require("equality_report", staff)
    in_service_years(since, until)
    in_order(since, until)
    if (until - since).days + 1 < MIN_PERIOD_DAYS:
        detail = (
            f"to: a period of at least {MIN_PERIOD_DAYS} days is needed (a shorter one singles people out)"
        )
        raise ProblemError(422, "Invalid request", detail)
    # Issue 29 (3): whole months, each council's month empty or with enough respondents (domain/equality.py).
    first, last = whole_months(since, until, datetime.now(UTC).date())
    repository = EqualityRepository(pool)
    total, counts = await repository.counts(since=first, until=last, policy_id=policy)
    thin = await repository.thin_months(since=first, until=last, policy_id=policy)
    withheld = None
    if last < first:
        withheld = "only months that have ended are counted, and this period has none"
    elif total < MIN_RESPONDENTS:
        withheld = f"fewer than {MIN_RESPONDENTS} answered in the period"
    elif thin:
        withheld = (
            f"a council's month in the period had fewer than {MIN_RESPONDENTS} respondents: a report on a"
            " longer or shorter period would give their answers away; ask for a period without that month"
        )
    await AuditRepository(pool).append_by(
        staff,
        "equality_report",
        reference=None,
        request_id=request_id,
        after={"from": since.isoformat(), "to": until.isoformat(), "policy": policy},
    )
    return EqualityReport.model_validate(
        {
            "from": since,
            "to": until,
            "policy_id": policy,
            "responses": responses_shown(total),
            "counted_from": first,
            "counted_to": last,
            "questions": {
                question: question_shown(total, answers)
                for question, answers in counts.items()
                if withheld is None
            },
            "withheld": withheld,
        }
    )
