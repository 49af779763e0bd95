"""One error shape for every failure: RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

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
        self, status: int, title: str, detail: str | None = None, type_: str = "about:blank"
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(type=type_, title=title, status=status, detail=detail)
        # RFC 6750: a 401 names the scheme the client should use; an outage says when to try again.
        self.headers: dict[str, str] | None = (
            {"WWW-Authenticate": "Bearer"}
            if status == 401
            else {"Retry-After": str(RETRY_AFTER_SECONDS)}
            if status == 503
            else None
        )


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
        422: "Invalid request",
    }.items()
}


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

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(
            Problem(title="Internal error", status=500, detail="unexpected error"), request
        )
