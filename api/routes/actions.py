"""Every staff action of the lifecycle: one POST per action, each a Temporal Update on the workflow.

The update's validator refuses an invalid action before anything changes (409 with the reason); the
handler records the change in Postgres before it returns, so the response shows the new state.
"""

# No `from __future__ import annotations` here: the body models are built at import time and FastAPI
# must see them as real classes in the endpoint signatures.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, create_model
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Complaint, CurrentStaff, Pool, RequestId, Temporal, require
from api.errors import PROBLEM_RESPONSES, ProblemError
from api.idempotency import run_once
from api.schemas import ComplaintRead, etag_of, full_read
from core.temporal import workflow_id
from domain import commands as cmd
from domain.inputs import CleanInput
from domain.models import Actor, ComplaintState
from store.audit import AuditRepository
from store.complaints import ComplaintRecord, ComplaintRepository
from store.staff import StaffRepository

router = APIRouter(prefix="/api/complaints", tags=["actions"])

ACTIONS: dict[str, tuple[type[cmd.Command], str]] = {
    "acknowledge": (cmd.Acknowledge, "Acknowledge the complaint (Stage 1, or accept Stage 2)."),
    "assign": (cmd.Assign, "Allocate the complaint to an investigating officer."),
    "decline": (
        cmd.Decline,
        "Decline: not a complaint under the policy, with the exclusion and signposting.",
    ),
    "request_information": (cmd.RequestInformation, "Ask the complainant for information."),
    "information_received": (cmd.InformationReceived, "Record that the requested information arrived."),
    "add_information": (cmd.AddInformation, "Join new information or a related issue to this complaint."),
    "open_linked_complaint": (
        cmd.OpenLinkedComplaint,
        "Start a new Stage 1 complaint for an unrelated issue.",
    ),
    "extend": (cmd.Extend, "Move the response date, with a reason."),
    "record_extension_agreement": (
        cmd.RecordExtensionAgreement,
        "Record the complainant's answer to an extension.",
    ),
    "respond": (cmd.Respond, "Send the response: outcome, findings, remedies and actions."),
    "complete_action": (cmd.CompleteAction, "Mark a promised action as done."),
    "request_escalation": (
        cmd.RequestEscalation,
        "Ask for Stage 2 on the complainant's behalf (or accept late).",
    ),
    "refuse_escalation": (cmd.RefuseEscalation, "Refuse Stage 2, with reasons and ombudsman signposting."),
    "close": (cmd.Close, "Close the complaint."),
    "withdraw": (cmd.Withdraw, "Record that the complainant withdrew the complaint."),
    "refer_to_ombudsman": (cmd.ReferToOmbudsman, "Record a referral to the ombudsman."),
    "record_ombudsman_decision": (cmd.RecordOmbudsmanDecision, "Record the ombudsman's decision."),
    "add_note": (cmd.AddNote, "Add an internal note."),
    "restrict_contact": (cmd.RestrictContact, "Restrict contact for a period, with a review date."),
    "recalculate_deadlines": (cmd.RecalculateDeadlines, "Apply new holiday data to this complaint's dates."),
}


def body_model(command: type[cmd.Command]) -> type[BaseModel]:
    """The request body of an action: the command without its actor (the actor is the token's owner)."""
    fields: dict[str, Any] = {
        name: (field.annotation, field) for name, field in command.model_fields.items() if name != "actor"
    }
    # The command's documented example travels with its body, for the OpenAPI page; the body refuses what
    # could never be stored or counted (CleanInput), before the workflow ever sees it.
    base = type(
        f"{command.__name__}Request",
        (CleanInput,),
        {"model_config": ConfigDict(json_schema_extra=command.model_config.get("json_schema_extra"))},
    )
    model: type[BaseModel] = create_model(f"{command.__name__}Body", __base__=base, **fields)
    return model


async def run_action(
    action: str,
    command: cmd.Command,
    complaint: ComplaintRecord,
    temporal: Temporal,
    update_id: str | None = None,
) -> None:
    """Run the action as a Temporal Update. With an Idempotency-Key the update id is derived from it, so
    Temporal itself refuses to apply a retried request twice, even if the API failed after the update ran."""
    handle = temporal.get_workflow_handle(workflow_id(complaint.reference))
    try:
        await handle.execute_update(action, command, id=update_id, result_type=ComplaintState)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
        if isinstance(cause, ApplicationError) and cause.type == "StaleState":
            raise ProblemError(412, "Precondition failed", message, "stale") from error
        if isinstance(cause, ApplicationError) and cause.type == "Unrecordable":
            raise ProblemError(422, "Invalid request", message, "unrecordable") from error
        raise ProblemError(409, "Not possible now", message, "transition-refused") from error
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise ProblemError(
                409, "Not possible now", "this complaint no longer accepts actions (its case is archived)"
            ) from error
        raise


def expected_seq(if_match: str | None, complaint: ComplaintRecord) -> int | None:
    """The event sequence an If-Match ETag names; any other ETag is already stale."""
    if if_match is None or if_match == "*":
        return None
    if if_match != etag_of(complaint):
        raise ProblemError(
            412, "Precondition failed", "the complaint changed since you read it: reload and try again"
        )
    return complaint.last_seq


def make_endpoint(action: str, command_type: type[cmd.Command], summary: str) -> None:
    body_type = body_model(command_type)

    async def endpoint(
        complaint: Complaint,
        staff: CurrentStaff,
        pool: Pool,
        temporal: Temporal,
        request_id: RequestId,
        request: Request,
        body: Annotated[body_type, Body()],  # type: ignore[valid-type]
        if_match: Annotated[str | None, Header(description="ETag of the complaint as last seen")] = None,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", description="Makes a retried request act once")
        ] = None,
    ) -> JSONResponse:
        payload: BaseModel = body
        require(action, staff, complaint.stage)
        seq = expected_seq(if_match, complaint)

        async def operation() -> tuple[int, BaseModel, dict[str, str]]:
            actor = Actor(id=staff.id, role=staff.role, name=staff.name)
            fields = {**payload.model_dump(), "actor": actor, "expected_seq": seq}
            if command_type is cmd.Assign:
                roles = await StaffRepository(pool).roles_of(user_ids=[fields["assignee"]])
                fields["assignee_role"] = roles.get(fields["assignee"])
            command = command_type.model_validate(fields)
            update_id = f"{staff.id}:{idempotency_key}" if idempotency_key else None
            await run_action(action, command, complaint, temporal, update_id)
            repository = ComplaintRepository(pool)
            record = await repository.get(reference=complaint.reference)
            await AuditRepository(pool).append(
                actor_id=staff.id,
                actor_role=staff.role.value,
                action=action,
                reference=complaint.reference,
                request_id=request_id,
                before={"status": complaint.status, "stage": complaint.stage, "seq": complaint.last_seq},
                after={
                    "status": record.status,
                    "stage": record.stage,
                    "seq": record.last_seq,
                    "request": payload.model_dump(mode="json"),
                },
            )
            return 200, await full_read(repository, record), {"ETag": etag_of(record)}

        return await run_once(
            pool=pool,
            staff=staff,
            key=idempotency_key,
            request=request,
            body=payload.model_dump(mode="json"),
            operation=operation,
        )

    endpoint.__name__ = action
    router.add_api_route(
        f"/{{reference}}/{action.replace('_', '-')}",
        endpoint,
        methods=["POST"],
        summary=summary,
        response_model=ComplaintRead,
        responses={
            **PROBLEM_RESPONSES,
            412: {"description": "The complaint changed since the ETag was read"},
        },
    )


for _action, (_command, _summary) in ACTIONS.items():
    make_endpoint(_action, _command, _summary)
