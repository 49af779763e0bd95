"""One error shape for every failure: RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from jinja2 import TemplateError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from domain.policy import Policy
from store.complaints import NotFound

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(BaseModel):
    """The documented error shape (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


RETRY_AFTER_SECONDS = 5


class ProblemError(Exception):
    """Raised by routes for a 4xx with a specific problem type."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(type=type_, title=title, status=status, detail=detail)
        # RFC 6750: a 401 names the scheme the client should use; an outage says when to try again.
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        elif status == 503 and not headers:
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        self.headers = headers


def known_policy(policies: dict[str, Policy], policy_id: str) -> Policy:
    """The council's policy a request names; a 422 where the service has none by that id."""
    policy = policies.get(policy_id)
    if policy is None:
        raise ProblemError(422, "Invalid request", f"policy_id: unknown policy {policy_id!r}")
    return policy


def problem_response(
    problem: Problem, request: Request, headers: dict[str, str] | None = None
) -> JSONResponse:
    problem.instance = problem.instance or request.url.path
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": title}
    for code, title in {
        401: "Not authenticated",
        403: "Not allowed",
        404: "Not found",
        409: "Not possible in the complaint's current state",
        413: "Request body too large",
        422: "Invalid request",
        503: "A server the service depends on is unreachable: try again after Retry-After seconds",
    }.items()
}

# Seconds a client is asked to wait after a 503: long enough for a restart, short enough for a person.
RETRY_AFTER_SECONDS = 5

# Temporal answers these while it (or the network to it) is down or overloaded: nothing was decided.
_TEMPORAL_DOWN = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.UNKNOWN,
    }
)
# PostgreSQL refusing connections, restarting, shutting down or full (SQLSTATE classes 08, 57P, 53).
_POSTGRES_DOWN: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.InterfaceError,
    # asyncpg's own state machine when a connection dies mid-operation ("another operation is in progress").
    asyncpg.InternalClientError,
    OSError,  # refused, reset, timed out (asyncio.TimeoutError is a TimeoutError, an OSError)
)


def outage(error: BaseException) -> str | None:
    """Which server an exception says is unreachable ("temporal" or "postgres"), or None for a real bug.

    The cause chain is followed: a route may wrap the failure in its own exception.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, RPCTimeoutOrCancelledError):
            return "temporal"  # an update or start that Temporal did not answer in time
        if isinstance(current, RPCError) and current.status in _TEMPORAL_DOWN:
            return "temporal"
        # A lazily connected client that has not reached the server yet says so this way.
        if isinstance(current, RuntimeError) and str(current).startswith("Failed client connect"):
            return "temporal"
        # A missing template is an OSError too, but a packaging fault, not an outage: never a 503 for it.
        if isinstance(current, _POSTGRES_DOWN) and not isinstance(current, TemplateError):
            return "postgres"
        current = current.__cause__ or current.__context__
    return None


def unavailable(request: Request, part: str) -> JSONResponse:
    """503 in the problem shape, with Retry-After: nothing was decided, the same request can be repeated."""
    name = {"temporal": "the workflow engine (Temporal)", "postgres": "the database (PostgreSQL)"}[part]
    return problem_response(
        Problem(
            type="service-unavailable",
            title="Service unavailable",
            status=503,
            detail=f"{name} is unreachable or did not answer in time; try again shortly",
        ),
        request,
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _invalid_request(raw: Sequence[Any]) -> Problem:
    """422 with one entry per invalid field, from pydantic's or FastAPI's error list."""
    errors = [
        {"field": ".".join(str(part) for part in error["loc"]), "reason": error["msg"]} for error in raw
    ]
    detail = "; ".join(f"{error['field']}: {error['reason']}" for error in errors)
    return Problem(title="Invalid request", status=422, detail=detail, errors=errors)


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.problem.model_copy(), request, exc.headers)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem_response(
            Problem(title="Not found", status=404, detail=f"no complaint {exc.args[0]}"), request
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        title = {
            401: "Not authenticated",
            403: "Not allowed",
            404: "Not found",
            405: "Method not allowed",
        }.get(exc.status_code, "Error")
        return problem_response(
            Problem(title=title, status=exc.status_code, detail=str(exc.detail)), request, headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(_invalid_request(exc.errors()), request)

    @app.exception_handler(ValidationError)
    async def _invalid_model(request: Request, exc: ValidationError) -> JSONResponse:
        # A request that passed the body schema but could not become a domain command is still bad input.
        return problem_response(_invalid_request(exc.errors()), request)

    async def _maybe_outage(request: Request, exc: Exception) -> JSONResponse:
        part = outage(exc)
        if part is not None:
            log.warning("%s unreachable on %s: %r", part, request.url.path, exc)
            return unavailable(request, part)
        return await _unexpected(request, exc)

    # Registered per class so that they are answered here, inside the app, rather than as a 500.
    for outage_type in (RPCError, RPCTimeoutOrCancelledError, RuntimeError, *_POSTGRES_DOWN):
        app.add_exception_handler(outage_type, _maybe_outage)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        part = outage(exc)
        if part is not None:
            return unavailable(request, part)
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(
            Problem(title="Internal error", status=500, detail="unexpected error"), request
        )
