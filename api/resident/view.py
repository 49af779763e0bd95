"""What a resident sees of their complaint: its status in words, its dates, its letters and what they may do
now, built field by field from the read model (nothing internal can slip in)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from api.resident import withheld
from api.resident.access import ResidentAccess
from api.resident.bodies import Dates, ExtensionQuestion, Letter, Possible, ResidentComplaintView
from api.resident.wording import stage_name
from core.services import Services
from domain.models import FINAL_STATUSES, Status
from domain.policy import Policy
from notifications.render import format_date
from store.complaints import ComplaintRecord, ComplaintRepository, NotificationRecord
from store.resident_access import ResidentAccessRepository

LETTER_TITLES = {
    "access_link": "Link to track your complaint",
    "access_code": "Your new access code",
    "complaint_copy": "A copy of your complaint",
    "consent_request": "We need your consent",
    "consent_recorded": "Consent received: you can act on the complaint",
    "acknowledgement": "Acknowledgement of your complaint",
    "decline": "Why we cannot take your complaint forward",
    "information_request": "Request for more information",
    "extension": "New date for our response",
    "extension_agreement_request": "Our request for more time to respond",
    "response": "Our response to your complaint",
    "response_late": "Our response is late",
    "ombudsman_available": "You can now contact the ombudsman",
    "escalation_refused": "Decision on your request for {next}",
    "stage2_acknowledgement": "Acknowledgement of your request for {stage}",
    "stage2_response": "Our response at {stage}",
    "closure": "Your complaint is closed",
    "withdrawal": "Your complaint is withdrawn",
    "contact_restriction": "How you can contact us",
}


def letter_title(notice: NotificationRecord, policy: Policy | None) -> str:
    """A letter's title on the complaint's page; a stage is named as the policy names it."""
    title = LETTER_TITLES.get(notice.template, notice.template.replace("_", " ").capitalize())
    stage = notice.context.get("stage")
    number = stage if isinstance(stage, int) else 2
    if notice.template == "escalation_refused":
        return title.format(next=stage_name(policy, number + 1))
    return title.format(stage=stage_name(policy, number))


INVESTIGATING = (Status.ACKNOWLEDGED, Status.AWAITING_INFORMATION)
_AGREEMENT_LINES = ("agreement_asked", "agreement", "agreement_refused")


def by_post(notice: NotificationRecord) -> bool:
    """A letter the outbox left for staff to post (skipped with "...: send by post": no e-mail address,
    letters preferred, e-mail off); an access link is never posted (it is one only by e-mail)."""
    return (
        notice.status == "skipped"
        and notice.template != "access_link"
        and (notice.last_error or "").endswith("send by post")
    )


def shown_to_resident(notice: NotificationRecord) -> bool:
    """The complainant's letters the page lists: sent or being sent by e-mail, or left for the post. Not one
    that failed, nor one never decided (skipped: superseded by a retried workflow task)."""
    if notice.audience != "complainant":
        return False
    return notice.status not in ("skipped", "failed") or by_post(notice)


def extension_question(record: ComplaintRecord, tz: ZoneInfo) -> ExtensionQuestion | None:
    """The council's open question about a later response at this stage: the ledger's latest agreement line
    is the question (`ask_extension_agreement`), not an answer. Nobody asked: nothing to answer."""
    lines = [line for line in record.ledger() if line.get("kind") in _AGREEMENT_LINES]
    if not lines or lines[-1].get("kind") != "agreement_asked":
        return None
    asked = lines[-1]
    return ExtensionQuestion(
        asked_on=datetime.fromisoformat(str(asked["at"])).astimezone(tz).date(),
        up_to=date.fromisoformat(str(asked["respond_by"])),
    )


def _day(value: datetime | None, tz: ZoneInfo) -> date | None:
    return None if value is None else value.astimezone(tz).date()


def _passed(day: date | None, today: date | None) -> bool:
    return day is not None and today is not None and day < today


def _by(promised: str, day: date | None, today: date | None) -> str:
    """ "We will <promised> by <day>.", or (the day has passed: `today` is after it) that it is late."""
    if day is None:
        return f"We will {promised} soon."
    if _passed(day, today):
        return f"We said we would {promised} by {_long(day)}. We are sorry it is late."
    return f"We will {promised} by {_long(day)}."


def status_text(record: ComplaintRecord, policy: Policy | None = None, today: date | None = None) -> str:
    """The complaint's state in a sentence; a stage by the policy's name for it. Once a date we gave has
    passed (`today`, the council's local date), it says what we said and that it is late, never "we will ...
    by" a day gone (a submission held in triage, api/resident/withheld.py, reads the same)."""
    status = Status(record.status)
    here = stage_name(policy, record.stage)
    next_stage = stage_name(policy, record.stage + 1)
    about = f"your complaint at {here}" if record.stage > 1 else "your complaint"
    early_resolution = record.stage == 1 and record.acknowledge_by is None and record.respond_by is not None
    if status is Status.RECEIVED and early_resolution and record.respond_by:
        # Early resolution (issue 28): the case row carries its date and no acknowledgement date.
        if _passed(record.respond_by, today):
            aimed = _long(record.respond_by)
            return f"We aimed to resolve your complaint by {aimed}. We are sorry it is late."
        return f"We aim to resolve your complaint by {_long(record.respond_by)}."
    if status is Status.RECEIVED:
        return f"We have received {about}. {_by('acknowledge it', record.acknowledge_by, today)}"
    if status is Status.ESCALATION_REQUESTED:
        return (
            f"We have received your request to take your complaint to {here}."
            f" {_by('acknowledge it', record.acknowledge_by, today)} We will tell you whether it goes ahead."
        )
    if status is Status.ACKNOWLEDGED:
        if record.respond_by is None:
            return f"We are looking into {about}. We will send you our response."
        return f"We are looking into {about}. {_by('send you our response', record.respond_by, today)}"
    if status is Status.AWAITING_INFORMATION:
        return "We have asked you for more information. Please send it using the form on this page."
    if status is Status.RESPONDED:
        if record.escalation_request_by:
            return (
                "We have sent you our response. If you are not happy with it, you can ask us to take your"
                f" complaint to {next_stage} until {_long(record.escalation_request_by)}."
            )
        return "We have sent you our response."
    if status is Status.DECLINED:
        return "We could not take your complaint forward. Our letter explains why and where else to go."
    if status is Status.ESCALATION_REFUSED:
        return (
            f"We could not take your complaint to {next_stage}. Our letter explains why and what you can do"
            " next."
        )
    if status is Status.WITHDRAWN:
        return "You withdrew your complaint."
    return (
        "Your complaint is closed. If you are still unhappy, our last letter tells you how to contact the"
        " ombudsman."
    )


def _long(day: date) -> str:
    """The GOV.UK way, as in the letters: "Friday 11 December 2026"."""
    return format_date(day)


def long_date(day: date | None) -> str:
    return "" if day is None else _long(day)


def view_of(
    record: ComplaintRecord,
    notifications: list[NotificationRecord],
    policy: Policy | None,
    today: date | None = None,
) -> ResidentComplaintView:
    """The resident's view, built field by field from the read model (nothing internal can slip in), as of
    `today` (the council's; now by default)."""
    tz = ZoneInfo(policy.timezone if policy else "Europe/London")
    today = today or datetime.now(tz).date()
    status = Status(record.status)
    agreed_up_to = record.agreed_up_to()
    question = extension_question(record, tz) if status in INVESTIGATING else None
    window_open = status is Status.RESPONDED and record.escalation_request_by is not None
    letters = [
        Letter(
            title=letter_title(notice, policy),
            template=notice.template,
            created_on=notice.created_at.astimezone(tz).date(),
            sent=notice.status == "sent" or by_post(notice),
            by_post=by_post(notice),
        )
        for notice in notifications
        if shown_to_resident(notice)
    ]
    return ResidentComplaintView(
        reference=record.reference,
        council=policy.name if policy else record.policy_id,
        stage=record.stage,
        stage_name=stage_name(policy, record.stage),
        status=status,
        status_text=status_text(record, policy, today),
        outcome=record.outcome,
        service_area=record.service_area,
        summary=record.summary,
        desired_outcome=record.desired_outcome,
        dates=Dates(
            received_on=record.received_at.astimezone(tz).date(),
            acknowledge_by=record.acknowledge_by,
            respond_by=record.respond_by,
            agreed_up_to=agreed_up_to,
            escalation_request_by=record.escalation_request_by if window_open else None,
            acknowledged_on=_day(record.acknowledged_at, tz),
            responded_on=_day(record.responded_at, tz),
            closed_on=_day(record.closed_at, tz),
            acknowledgement_late=record.acknowledged_at is None and _passed(record.acknowledge_by, today),
            response_late=record.responded_at is None and _passed(record.respond_by, today),
        ),
        letters=letters,
        extension_question=question,
        possible=Possible(
            send_information=status not in FINAL_STATUSES,
            answer_extension=question is not None,
            ask_for_review=window_open,
            withdraw=status not in FINAL_STATUSES,
        ),
    )


async def held_view(services: Services, access: ResidentAccess) -> ResidentComplaintView:
    """A held submission's view (api/resident/withheld.py): built by `view_of`, as a complaint's is, from what
    a case row of a complaint just received holds and its messages, read now (an action may have changed
    it); an item decided otherwise says so."""
    item = await withheld.held(services, access.record.reference) or access.held
    assert item is not None
    record = withheld.held_record(item)
    letters = await ResidentAccessRepository(services.pool).held_notifications(reference=record.reference)
    seen = view_of(record, letters, services.policies.get(record.policy_id))
    if (decided := withheld.decided_text(item)) is not None:
        seen.status_text = decided
    return seen


async def view(services: Services, access: ResidentAccess) -> ResidentComplaintView:
    if access.held is not None:
        return await held_view(services, access)
    repository = ComplaintRepository(services.pool)
    record = await repository.get(reference=access.record.reference)
    notifications = await repository.notifications(reference=record.reference)
    seen = view_of(record, notifications, services.policies.get(record.policy_id))
    if seen.extension_question is not None:
        # Its reason is on the event (the workflow keeps no free text), the latest question's.
        asked = await repository.events(reference=record.reference, action="ask_extension_agreement")
        if asked:
            reason = str(asked[-1].detail.get("reason") or "")
            seen.extension_question.reason = reason
    return seen
