"""Issue 25: before an action that sends the resident a letter, the officer sees the letter as it will go.

The action's form has a "Preview the letter" button (no JavaScript): the form is posted, validated as when it
is sent, and the letters the action would send now are shown (api.casework.preview_action: the workflow's
own rule and step on a copy of its state, rendered by the outbox's code with the resident's name read now).
The page carries what was typed in hidden fields, with the form token and the complaint's sequence, and two
buttons: "Send" (the action is taken, as from the form) and "Change" (back to the form as it was typed)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from api.casework import preview_action
from api.errors import ProblemError
from domain.actions import Action
from domain.steps.approval import APPROVERS
from notifications.render import RenderError
from store.complaints import ComplaintRecord
from web.layout import page
from web.staff.common import layout, services_of
from web.staff.session import StaffSession

# The actions whose step may write to the complainant (domain/steps: `to_complainant`): their forms offer
# the preview. Whether this action sends a letter this time (an anonymous complaint gets none, a clock that
# was not stopped sends no restart letter) the preview page says.
LETTER_ACTIONS = frozenset(
    {
        "acknowledge",
        "resolve_early",
        "decline",
        "request_information",
        "information_received",
        "extend",
        "respond",
        "approve_response",
        "complete_action",
        "refuse_escalation",
        "close",
        "withdraw",
        "restrict_contact",
        "lift_contact_restriction",
    }
)
# Form fields the preview page does not carry again as typed answers (it writes its own).
_OWN_FIELDS = frozenset({"csrf_token", "seq", "intent"})


def carried(form: FormData) -> list[tuple[str, str]]:
    """What was typed, to post again from the preview page (repeated names, checkboxes, kept)."""
    return [
        (key, value) for key, value in form.multi_items() if isinstance(value, str) and key not in _OWN_FIELDS
    ]


async def preview_page(
    request: Request,
    session: StaffSession,
    record: ComplaintRecord,
    action: Action,
    body: BaseModel,
    form: FormData,
    seq: int,
) -> Response | ProblemError:
    """The preview page, or the refusal (409: the action's rule; 422) for the form to show."""
    services = services_of(request)
    try:
        letters = await preview_action(
            pool=services.pool,
            temporal=services.temporal,
            settings=services.settings,
            staff=session.staff,
            action=action.name,
            complaint=record,
            body=body.model_dump(),
        )
    except ProblemError as error:
        if error.problem.status in (409, 422):
            return error
        raise
    except RenderError as error:
        return ProblemError(422, "This letter cannot be shown", str(error))
    context: dict[str, Any] = {
        "c": record,
        "action": action,
        "letters": letters,
        "hidden": carried(form),
        "seq": seq,
        "waits_for_approval": action.name == "respond" and await _drafts(request, record, session),
    }
    return page("staff/preview.html", **context, **layout(session, "queues"))


async def _drafts(request: Request, record: ComplaintRecord, session: StaffSession) -> bool:
    """Will this officer's response wait for a manager's approval (the complaint's policy asks for it)?"""
    policy = services_of(request).policies.get(record.policy_id)
    return bool(policy and policy.response_approval and session.staff.role not in APPROVERS)
