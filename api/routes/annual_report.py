"""The manager-entered parts of the annual report (the Complaint Handling Code, section 8): the
self-assessment's conclusions, the qualitative analysis, the improvements made, the ombudsman's annual
letter and other reports, and the governing body's response. Stored per council and financial year, every
change audited (the audit trail keeps the text's length and keyed hash); the annual report prints them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.deps import CurrentStaff, Policies, Pool, RequestId, require, whole_council_only
from api.errors import PROBLEM_RESPONSES, known_policy
from domain.inputs import CleanInput
from reporting.annual_sections import MAX_CHARS, EnteredSection
from store.annual_report_entries import entries, put_entry
from store.audit import AuditRepository

router = APIRouter(prefix="/api/reports/annual", tags=["reports"])

YearPath = Annotated[int, Path(ge=2000, le=2100, description="Financial year starting 1 April of this year")]
PolicyQuery = Annotated[str, Query(max_length=63)]


class SectionText(CleanInput):
    text: str = Field(min_length=1, max_length=MAX_CHARS)


class SectionEntry(BaseModel):
    section: EnteredSection
    text: str
    entered_by: str
    entered_at: datetime


@router.put("/{year}/sections/{section}", responses=PROBLEM_RESPONSES)
async def enter_section(
    staff: CurrentStaff,
    pool: Pool,
    policies: Policies,
    request_id: RequestId,
    year: YearPath,
    section: EnteredSection,
    policy_id: PolicyQuery,
    body: SectionText,
) -> SectionEntry:
    """Write one part of the council's annual report for the year (a manager); it replaces the last text."""
    require("annual_report_entry", staff)
    whole_council_only(staff)
    known_policy(policies, policy_id)
    async with pool.acquire() as connection, connection.transaction():
        stored = await put_entry(
            connection,
            policy_id=policy_id,
            year=year,
            section=section.value,
            body=body.text,
            entered_by=staff.id,
        )
        await AuditRepository(connection).append_by(
            staff,
            "annual_report_entry",
            reference=None,
            request_id=request_id,
            after={"policy_id": policy_id, "year": year, "section": section.value, "text": body.text},
        )
    return SectionEntry(
        section=section, text=stored["body"], entered_by=stored["entered_by"], entered_at=stored["entered_at"]
    )


@router.get("/{year}/sections", responses=PROBLEM_RESPONSES)
async def entered_sections(
    staff: CurrentStaff, pool: Pool, policies: Policies, year: YearPath, policy_id: PolicyQuery
) -> list[SectionEntry]:
    """The parts entered so far for the council's year."""
    require("reports", staff)
    whole_council_only(staff)
    known_policy(policies, policy_id)
    found = await entries(pool, policy_id=policy_id, year=year)
    return [
        SectionEntry(
            section=EnteredSection(section),
            text=row["body"],
            entered_by=row["entered_by"],
            entered_at=row["entered_at"],
        )
        for section, row in found.items()
    ]
