"""A manager's approval of a response (issue 25, policy field `response_approval`).

Where the policy asks for it, a response by anyone but a manager is recorded as a draft: nothing is sent, the
stage is not answered and its clock keeps running. A manager other than its author approves it (the response
is then sent and the stage answered, on the approval date: the date the resident gets it, which the Housing
Ombudsman's Code counts) or returns it with a reason. The draft's text lives on the event trail only; the
state keeps who drafted it and its event's sequence (bounded)."""

from __future__ import annotations

from domain import commands as cmd
from domain.letters import staff_notice
from domain.models import Role
from domain.steps import Applied, Ctx
from domain.steps.investigation import respond

# Roles whose responses go out without approval: the approvers themselves.
APPROVERS = frozenset({Role.MANAGER})
# Who is told a response waits (the recipient the overdue alerts use: domain.letters.manager_alert).
MANAGERS = "complaints-manager"


def needs_approval(ctx: Ctx, command: cmd.Respond) -> bool:
    return ctx.policy.response_approval and command.actor.role not in APPROVERS


async def respond_or_draft(ctx: Ctx, command: cmd.Respond) -> Applied:
    """The `respond` step: sent at once, or kept as a draft for a manager where the policy says so."""
    if not needs_approval(ctx, command):
        return await respond(ctx, command)
    stage = ctx.state.current
    stage.draft_response_by = command.actor.id
    stage.draft_response_seq = ctx.state.events  # this event's sequence (lifecycle.transition)
    body = command.model_dump(mode="json", exclude={"actor", "expected_seq"})
    detail = {"draft": True, "outcome": command.outcome, "findings": command.findings, "body": body}
    notice = staff_notice(
        ctx.state,
        "response_for_approval",
        MANAGERS,
        drafted_by=command.actor.id,
        respond_by=stage.respond_by,
    )
    return Applied(ctx.state.status, detail, [notice])


async def approve_response(ctx: Ctx, command: cmd.ApproveResponse) -> Applied:
    """The draft is sent as the response, dated now; it stays its author's response, approved by the
    manager."""
    stage = ctx.state.current
    drafted_by = stage.draft_response_by
    assert drafted_by is not None and command.draft is not None  # the rule refused otherwise
    stage.draft_response_by = stage.draft_response_seq = None
    draft = cmd.Respond.model_validate({**command.draft, "actor": command.actor})
    applied = await respond(ctx, draft)
    stage.responded_by = drafted_by
    detail = {
        **applied.detail,
        "drafted_by": drafted_by,
        "approved_by": command.actor.id,
        "note": command.note,
    }
    return Applied(applied.status, detail, applied.letters)


async def return_response(ctx: Ctx, command: cmd.ReturnResponse) -> Applied:
    stage = ctx.state.current
    drafted_by = stage.draft_response_by
    stage.draft_response_by = stage.draft_response_seq = None
    # The reasons stay on the event trail: the notice sends the author to the case.
    notice = staff_notice(
        ctx.state,
        "response_returned",
        drafted_by,
        returned_by=command.actor.id,
        respond_by=stage.respond_by,
    )
    return Applied(ctx.state.status, {"reason": command.reason, "drafted_by": drafted_by}, [notice])
