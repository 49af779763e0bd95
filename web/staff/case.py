"""The case page: identity bar, reasonable adjustments first, the complainant and representative, each date
with its explanation, the timeline, letters (status and preview), attachments, promised actions,
restrictions and conflicts, and the actions this staff member may take now. Read through the API's own
functions (api.casework.visible_complaint, api.schemas.full_read) and audited as the API's read is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.attachments import audit_facts, download_response
from api.casework import visible_complaint
from api.deps import request_id as request_id_of
from api.early_resolution import at_early_resolution
from api.errors import ProblemError
from api.letter_preview import PreviewLetter, render_as_delivered
from api.permissions import allowed
from api.response_drafts import waiting_draft
from api.schemas import ComplaintRead, full_read
from domain.actions import ACTIONS
from domain.models import Role, Status
from notifications.delivery import DeliveryOptions
from notifications.render import RenderedMessage, RenderError, render
from store.attachments import AttachmentRepository
from store.audit import AuditRepository
from store.complaints import ComplaintRecord, ComplaintRepository, NotFound, adjustments_of
from web.layout import page
from web.staff.common import layout, services_of
from web.staff.deadlines import explain
from web.staff.session import StaffSession, signed_in

router = APIRouter(prefix="/staff", include_in_schema=False)
Session = Annotated[StaffSession, Depends(signed_in)]

# Actions a case page offers as forms elsewhere than the menu (or not at all from the console).
NOT_IN_MENU: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Situation:
    """What the read model says about the complaint beyond its status, which some actions' rules depend on:
    is it at its early-resolution step (issue 28), does a drafted response wait for approval (issue 25)."""

    early_resolution: bool = False
    draft_waiting: bool = False

    def hides(self, name: str) -> bool:
        """An action its rule would refuse in this situation, whatever the form says."""
        if name in ("resolve_early", "start_investigation"):
            return not self.early_resolution
        if name == "acknowledge":
            return self.early_resolution
        if name in ("approve_response", "return_response"):
            return not self.draft_waiting
        if name == "respond":
            return self.draft_waiting
        return False


async def situation_of(request: Request, record: ComplaintRecord) -> Situation:
    services = services_of(request)
    draft = await waiting_draft(services.pool, record.reference)
    policy = services.policies.get(record.policy_id)
    return Situation(at_early_resolution(policy, record), draft is not None)


def offered_actions(role: Role, status: str, stage: int, situation: Situation | None = None) -> list[str]:
    """The actions whose button this staff member sees: those the API would let them try now (their role
    at this stage, api.permissions.allowed, a status the action table allows it from, and the complaint's
    situation); an action's own rule (a date, a limit) may still refuse it, with its reason, when the form
    is sent."""
    shown = []
    for name, action in ACTIONS.items():
        if name in NOT_IN_MENU or not allowed(name, role, stage):
            continue
        if situation is not None and situation.hides(name):
            continue
        if Status(status) in action.allowed_from or Status(status) in action.rule_decides_in:
            shown.append(name)
    return shown


async def case_or_page(request: Request, session: StaffSession, reference: str) -> ComplaintRecord | Response:
    """The complaint as this staff member may see it, or the page that says why not (404, 403)."""
    try:
        return await visible_complaint(services_of(request).pool, session.staff, reference)
    except NotFound:
        return page(
            "staff/refused.html",
            404,
            heading="Complaint not found",
            message="There is no complaint with that reference you can see.",
            **layout(session),
        )
    except ProblemError as error:
        return page(
            "staff/refused.html",
            error.problem.status,
            heading=error.problem.title,
            message=error.problem.detail or "",
            **layout(session),
        )


async def stage_facts(request: Request, reference: str, stage: int) -> dict[str, Any] | None:
    row = await services_of(request).pool.fetchrow(
        "SELECT * FROM complaint_stages WHERE reference = $1 AND stage = $2", reference, stage
    )
    return dict(row) if row is not None else None


@router.get("/complaints/{reference}")
async def case_page(request: Request, reference: str, session: Session, done: str = "") -> Response:
    services = services_of(request)
    found = await case_or_page(request, session, reference)
    if isinstance(found, Response):
        return found
    record = found
    staff = session.staff
    await AuditRepository(services.pool).append_by(
        staff, "read", reference=record.reference, request_id=request_id_of()
    )
    read: ComplaintRead = await full_read(ComplaintRepository(services.pool), record)
    policy = services.policies.get(record.policy_id)
    facts = await stage_facts(request, record.reference, record.stage)
    explanations = (
        explain(policy, facts, record.ledger(), read.deadlines.escalation_request_by) if policy else []
    )
    draft = await waiting_draft(services.pool, record.reference)
    situation = Situation(at_early_resolution(policy, record), draft is not None)
    offered = offered_actions(staff.role, record.status, record.stage, situation)
    # The person's restrictions across their complaints; one decided on a complaint closed to this reader
    # (outside their areas, naming them, a declared conflict) is shown without naming that complaint.
    restrictions = await services.pool.fetch(
        "SELECT CASE WHEN r.reference = $1 OR (($4::text[] IS NULL OR c.service_area = ANY($4::text[]))"
        "   AND NOT ($5::text = ANY(c.staff_complained_about)) AND NOT EXISTS (SELECT 1 FROM"
        "   staff_conflicts s WHERE s.reference = c.reference AND s.staff_id = $5::text))"
        "   THEN r.reference END AS reference,"
        " r.channels, r.until_on, r.review_on, r.decided_by, r.lifted_at"
        " FROM contact_restrictions r JOIN complaints c ON c.reference = r.reference"
        " WHERE c.policy_id = $2 AND (r.reference = $1 OR ($3::text IS NOT NULL"
        "   AND lower(c.complainant ->> 'email') = lower($3::text)))"
        " ORDER BY r.decided_at DESC",
        record.reference,
        record.policy_id,
        record.complainant.get("email"),
        staff.service_areas,
        staff.id,
    )
    conflicts = await services.pool.fetch(
        "SELECT staff_id, declared_at FROM staff_conflicts WHERE reference = $1 ORDER BY declared_at",
        record.reference,
    )
    return page(
        "staff/case.html",
        c=read,
        record=record,
        policy=policy,
        adjustments=adjustments_of(record.complainant),
        explanations=explanations,
        actions=[ACTIONS[name] for name in offered],
        situation=situation,
        draft=draft,
        can_download=allowed("download_attachment", staff.role),
        # A new access code (web/staff/access_code.py): not for an anonymous complaint (no one to send it to).
        can_issue_code=allowed("issue_access_code", staff.role) and not record.anonymous,
        restrictions=[dict(row) for row in restrictions],
        conflicts=[dict(row) for row in conflicts],
        done=DONE.get(done),
        **layout(session, "queues"),
    )


# The results an action's redirect may announce (a fixed list: nothing from the query string is shown).
DONE = {name: f"{action.summary.split(':')[0].rstrip('.')}: done." for name, action in ACTIONS.items()}
DONE["create"] = "Complaint logged. Its deadlines are below."
DONE["issue_access_code"] = "New access code sent by e-mail. Every earlier code and link has stopped working."


@router.get("/complaints/{reference}/letters/{letter_id}")
async def letter_preview(request: Request, reference: str, letter_id: str, session: Session) -> Response:
    """A letter on the case as it was (or will be) sent: the same template and context the outbox renders."""
    services = services_of(request)
    found = await case_or_page(request, session, reference)
    if isinstance(found, Response):
        return found
    letters = await ComplaintRepository(services.pool).notifications(reference=found.reference)
    letter = next((letter for letter in letters if letter.id == letter_id), None)
    policy = services.policies.get(found.policy_id)
    if letter is None or policy is None:
        return page("staff/refused.html", 404, heading="Letter not found", message="", **layout(session))
    templates_dir = services.settings.notification_templates_dir
    rendered: PreviewLetter | RenderedMessage
    try:
        if letter.audience == "complainant":  # as delivery renders it: the name it greets read now
            resident_pages = DeliveryOptions.from_settings(services.settings).resident_pages or ""
            rendered = render_as_delivered(
                letter.template, letter.context, found, policy, templates_dir, resident_pages
            )
        else:
            rendered = render(letter.template, letter.context, policy, templates_dir)
    except RenderError as error:
        return page(
            "staff/refused.html",
            200,
            heading="This letter cannot be shown",
            message=str(error),
            **layout(session),
        )
    return page(
        "staff/letter.html",
        c=found,
        letter=letter,
        subject=rendered.subject,
        text=rendered.text,
        **layout(session, "queues"),
    )


@router.get("/complaints/{reference}/attachments/{attachment_id}")
async def attachment(
    request: Request, reference: str, attachment_id: uuid.UUID, session: Session
) -> Response:
    """Download one attachment, as the API does (always a download; recorded)."""
    services = services_of(request)
    found = await case_or_page(request, session, reference)
    if isinstance(found, Response):
        return found
    staff = session.staff
    file = await AttachmentRepository(services.pool).get(
        reference=found.reference, attachment_id=attachment_id
    )
    if not allowed("download_attachment", staff.role) or file is None:
        return page("staff/refused.html", 404, heading="File not found", message="", **layout(session))
    await AuditRepository(services.pool).append_by(
        staff,
        "download_attachment",
        reference=found.reference,
        request_id=request_id_of(),
        after=audit_facts(file),
    )
    return download_response(file)
