"""Dependencies shared by the routers, as Annotated aliases."""

from __future__ import annotations

import uuid
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from temporalio.client import Client

from api.auth import InvalidToken, verify
from api.casework import visible_complaint
from api.errors import ProblemError
from api.permissions import allowed
from api.resident.answer_timing import AnswerTiming
from core.logs import log_context
from core.services import Services
from core.settings import Settings
from domain.policy import Policy
from store.complaints import ComplaintRecord
from store.staff import StaffRepository, StaffUser


# The dependencies are `async def` although they never wait: FastAPI runs a plain `def` dependency in its
# thread pool, a thread hop per dependency per request (bench/README.md, "where the CPU goes").
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def answer_timing(request: Request) -> AnswerTiming:
    """The app's window of normal web intakes' durations (api/resident/answer_timing.py)."""
    timing: AnswerTiming = request.app.state.answer_timing
    return timing


async def get_pool(services: ServicesDep) -> asyncpg.Pool:
    return services.pool


async def get_temporal(services: ServicesDep) -> Client:
    return services.temporal


async def get_policies(services: ServicesDep) -> dict[str, Policy]:
    return services.policies


async def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


Pool = Annotated[asyncpg.Pool, Depends(get_pool)]
Temporal = Annotated[Client, Depends(get_temporal)]
Policies = Annotated[dict[str, Policy], Depends(get_policies)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def request_id(x_request_id: Annotated[str | None, Header(max_length=100)] = None) -> str:
    """The request's id in the audit trail: the middleware's (api/observability.py), so the audit trail and
    the log lines name the same request. A caller's X-Request-ID is only a correlation id: it never decides
    whether a row is written (see `AuditRepository.append`)."""
    context = log_context()
    if context is not None and context.request_id:
        return context.request_id
    return x_request_id or uuid.uuid4().hex


async def _request_id(x_request_id: Annotated[str | None, Header(max_length=100)] = None) -> str:
    return request_id(x_request_id)


RequestId = Annotated[str, Depends(_request_id)]


# What this process last put in the directory for each staff id (name, role, areas): one write per person
# and change, not per request.
_seen: dict[str, tuple[str, str, tuple[str, ...] | None]] = {}


async def current_staff(
    token: Annotated[str | None, Depends(_bearer)], settings: SettingsDep, pool: Pool
) -> StaffUser:
    if not token:
        raise ProblemError(401, "Not authenticated", "a bearer token is required")
    try:
        staff = verify(token, settings)
    except InvalidToken as error:
        raise ProblemError(401, "Not authenticated", f"invalid token: {error}") from error
    context = log_context()
    if context is not None:
        context.staff_id = staff.id  # every log line of this request names who made it
    areas = tuple(staff.service_areas) if staff.service_areas is not None else None
    seen = (staff.name, staff.role.value, areas)
    if _seen.get(staff.id) != seen:
        # The staff directory that assignment checks (a complaint is assigned to known staff only, whose
        # areas take it in).
        await StaffRepository(pool).record_seen(user=staff)
        _seen[staff.id] = seen
    return staff


def forget_recorded_staff() -> None:
    """The directory changed behind this process (a demo user reset, a test): record each staff member again
    on their next request."""
    _seen.clear()


CurrentStaff = Annotated[StaffUser, Depends(current_staff)]


def require(action: str, staff: StaffUser, stage: int = 1) -> None:
    if not allowed(action, staff.role, stage):
        raise ProblemError(
            403, "Not allowed", f"a {staff.role.value} may not {action.replace('_', ' ')}", "forbidden"
        )


def whole_council_only(staff: StaffUser) -> None:
    """Need-to-know on the whole-council reports (the annual report and its written parts, the
    self-assessment, the ombudsman's indicators, the staff training they count): not for staff limited to
    service areas, who get the performance report of their own areas instead."""
    if staff.service_areas is not None:
        raise ProblemError(
            403,
            "Not allowed",
            "this report covers every service area: ask for the performance report of your area",
            "need-to-know",
        )


async def load_complaint(reference: str, pool: Pool, staff: CurrentStaff) -> ComplaintRecord:
    """The complaint, or 404 (also outside the service areas the staff member deals with: need-to-know);
    refused (403) to a staff member named in it or who declared a conflict of interest on it."""
    return await visible_complaint(pool, staff, reference)


Complaint = Annotated[ComplaintRecord, Depends(load_complaint)]
