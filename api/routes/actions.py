"""Every staff action of the lifecycle: one POST per entry of the action table (`domain/actions.py`), each
a Temporal Update on the workflow.

The update's validator refuses an invalid action before anything changes (409 with the reason); the
handler records the change in Postgres before it answers its small receipt, so the complaint read back from
the read model straight after shows the new state.
"""

# No `from __future__ import annotations` here: the body models are built at import time and FastAPI
# must see them as real classes in the endpoint signatures.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, create_model

from api.casework import perform_action
from api.deps import Complaint, CurrentStaff, Pool, RequestId, Temporal, require
from api.errors import PROBLEM_RESPONSES, ProblemError
from api.idempotency import run_once
from api.schemas import ComplaintRead, etag_of, full_read
from domain import commands as cmd
from domain.actions import ACTIONS
from domain.inputs import CleanInput
from store.complaints import ComplaintRecord, ComplaintRepository

router = APIRouter(prefix="/api/complaints", tags=["actions"])


def body_model(command: type[cmd.Command]) -> type[BaseModel]:
    """The request body of an action: the command without its actor (the actor is the token's owner)."""
    fields: dict[str, Any] = {
        name: (field.annotation, field)
        for name, field in command.model_fields.items()
        if name != "actor" and name not in cmd.FILLED_BY_SERVICE
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
            record = await perform_action(
                pool=pool,
                temporal=temporal,
                staff=staff,
                action=action,
                complaint=complaint,
                body=payload.model_dump(),
                request_body=payload.model_dump(mode="json"),
                expected_seq=seq,
                request_id=request_id,
                update_id=f"{staff.id}:{idempotency_key}" if idempotency_key else None,
            )
            return 200, await full_read(ComplaintRepository(pool), record), {"ETag": etag_of(record)}

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


for _action in ACTIONS.values():
    make_endpoint(_action.name, _action.command, _action.summary)
