"""The complaint's page: its status in words, dates, letters and what the resident can do now (answer a
question, send information or evidence, answer an extension the council asked for, take the complaint to
the next stage, withdraw). Each form posts, then redirects (post/redirect/get); a form with a problem is
shown again with an error summary at the top."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from api.deps import ServicesDep
from api.early_resolution import at_early_resolution
from api.resident import held_actions
from api.resident.access import ResidentAccess
from api.resident.story import story_of
from api.resident.tokens import form_key
from api.resident.view import view
from api.resident.wording import stage_name
from core.services import Services
from domain.support import support_lines
from store.attachments import AttachmentRepository
from store.complaints import ComplaintRecord, ComplaintRepository, adjustments_of
from store.resident_access import ResidentAccessRepository
from web.resident.pages import render
from web.resident.session import SignedInPage
from web.resident.wording import DONE, next_stage_name, status_label

router = APIRouter(include_in_schema=False)


def evidence_hint(services: Services) -> str:
    megabytes = services.settings.attachment_max_bytes / (1024 * 1024)
    kinds = "PDF, Word, JPEG, PNG or text"
    return f"For example, a photo, a letter or a document ({kinds}), up to {megabytes:g} MB."


def representative_of(record: ComplaintRecord) -> dict[str, Any] | None:
    """Who acts for the complainant and whether their consent is on file (issue 30: the case shows when a
    written consent arrives, and from then on the letters go to the representative)."""
    representative = record.representative
    if not representative:
        return None
    received = representative.get("consent_recorded_on")
    return {
        "name": str(representative.get("name") or "Your representative"),
        "consent_recorded": bool(representative.get("consent_recorded")),
        "received_on": date.fromisoformat(received) if isinstance(received, str) else None,
    }


async def status_page(
    services: Services,
    access: ResidentAccess,
    token: str,
    *,
    done: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    seen = await view(services, access)
    # Each error links to its field; a refused action whose form is no longer shown links to the status.
    shown = {
        "summary": seen.possible.send_information,
        "reasons": seen.possible.ask_for_review,
        "outcome_wanted": seen.possible.ask_for_review,
        "agreed": seen.possible.answer_extension,
        "up_to": seen.possible.answer_extension,
        "up_to-day": seen.possible.answer_extension,  # the GOV.UK date input: errors link to its first box
        "reason": False,  # asked on the withdrawal's confirmation page (actions.py)
        "file": seen.possible.send_information,  # no evidence once the complaint is finished
    }
    errors = {(field if shown.get(field) else "status-text"): text for field, text in (errors or {}).items()}
    policy = services.policies.get(access.record.policy_id)
    repository = ComplaintRepository(services.pool)
    if access.held is not None:
        # Held in triage (api/resident/withheld.py): a just-received complaint's page, from the same parts.
        record = access.record
        letters = await ResidentAccessRepository(services.pool).held_notifications(reference=record.reference)
        evidence = held_actions.evidence_of(access.held)
    else:
        record = await repository.get(reference=seen.reference)
        letters = await repository.notifications(reference=seen.reference)
        evidence = await AttachmentRepository(services.pool).list(reference=seen.reference)
    story = story_of(seen, record, letters, policy)
    # issue 24: what the council needs to know to take a review request (council-004: reasons and action).
    review_needs: set[str] = set()
    if policy is not None and seen.stage in [stage.number for stage in policy.stages]:
        review_needs = {need.value for need in policy.stage(seen.stage).escalation_needs()}
    return render(
        "status.html",
        status_code,
        c=seen,
        story=story,
        support=support_lines(adjustments_of(record.complainant)),
        representative=representative_of(record),
        status_label=status_label(seen, policy),
        next_stage_name=next_stage_name(policy, seen.stage),
        review_needs=review_needs,
        done=done.format(stage=stage_name(policy, seen.stage)) if done else None,
        form=form or {},
        errors=errors,
        form_key=form_key(token),
        evidence=[item for item in evidence if item.uploaded_by == "resident"],
        evidence_hint=evidence_hint(services),
        # issue 28: the button asking for an investigation (api/routes/resident_investigation.py)
        may_ask_investigation=at_early_resolution(policy, record),
        # The council's date today: a date that has passed is not promised again ("We said we would...").
        today=datetime.now(ZoneInfo(policy.timezone if policy else "Europe/London")).date(),
    )


@router.get("/complaint/{reference}", response_class=HTMLResponse)
async def complaint_page(
    services: ServicesDep,
    page: SignedInPage,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    if isinstance(page, HTMLResponse):
        return page
    return await status_page(services, page.access, page.session, done=DONE.get(done or ""))
