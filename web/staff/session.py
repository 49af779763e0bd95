"""The console's page session: a random secret in an HttpOnly, SameSite=Lax cookie (Secure outside
development), known to the database only by its SHA-256; it ends after STAFF_SESSION_IDLE_MINUTES without a
request, STAFF_SESSION_HOURS after signing in, or at "Sign out". Every form carries the session's CSRF token
and a POST without it is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from fastapi import Request, Response

from api.permissions import allowed
from core.logs import log_context
from core.settings import Settings
from inbound.store import InboundRepository
from store.staff import StaffRepository, StaffUser

COOKIE = "staff_session"
COOKIE_PATH = "/staff"
# Before signing in there is no session: the sign-in form's token is a double-submit cookie.
SIGN_IN_COOKIE = "staff_sign_in"


class SignInNeeded(Exception):
    """No session, or it ended: the page sends the browser to the sign-in page."""


class FormRefused(Exception):
    """A POST without the right CSRF token: refused with 403 and a page saying so."""


@dataclass(frozen=True)
class StaffSession:
    staff: StaffUser
    csrf_token: str
    # The e-mails waiting in triage, for the menu's count (None: this staff member does not triage).
    triage_waiting: int | None = None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def open_session(pool: asyncpg.Pool, staff: StaffUser, settings: Settings, response: Response) -> None:
    """Sign `staff` in: store the session and set its cookie on `response`. The staff member goes into the
    staff directory, as an API call with their token puts them (api.deps.current_staff): someone who only
    uses the console can then be assigned complaints."""
    await StaffRepository(pool).record_seen(user=staff)
    # Sessions that ran out (idle or past their hours) are not kept: only "Sign out" deleted a row.
    await pool.execute(
        "DELETE FROM staff_sessions WHERE expires_at <= now() OR last_seen_at <= now() - $1::interval",
        timedelta(minutes=settings.staff_session_idle_minutes),
    )
    secret = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=settings.staff_session_hours)
    await pool.execute(
        "INSERT INTO staff_sessions (secret_hash, staff, csrf_token, expires_at) VALUES ($1, $2, $3, $4)",
        _hash(secret),
        json.loads(staff.model_dump_json()),
        secrets.token_urlsafe(32),
        expires,
    )
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(settings.staff_session_hours * 3600),
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.staff_cookie_secure,
        samesite="lax",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH)


async def current_session(request: Request) -> StaffSession | None:
    """The request's live session (its idle clock restarted), or None."""
    secret = request.cookies.get(COOKIE)
    if not secret or len(secret) > 100:
        return None
    services = request.app.state.services
    idle = timedelta(minutes=services.settings.staff_session_idle_minutes)
    row = await services.pool.fetchrow(
        "UPDATE staff_sessions SET last_seen_at = now()"
        " WHERE secret_hash = $1 AND expires_at > now() AND last_seen_at > now() - $2::interval"
        " RETURNING staff, csrf_token",
        _hash(secret),
        idle,
    )
    if row is None:
        return None
    staff = StaffUser.model_validate(row["staff"])
    waiting = await InboundRepository(services.pool).waiting() if allowed("triage", staff.role) else None
    session = StaffSession(staff=staff, csrf_token=row["csrf_token"], triage_waiting=waiting)
    context = log_context()
    if context is not None:
        context.staff_id = session.staff.id  # every log line of the request names who made it
    return session


async def signed_in(request: Request) -> StaffSession:
    """The dependency of every console page but sign-in."""
    session = await current_session(request)
    if session is None:
        raise SignInNeeded()
    return session


def check_form(session: StaffSession, token: str | None) -> None:
    if not token or not hmac.compare_digest(token, session.csrf_token):
        raise FormRefused()


async def end_session(request: Request, response: Response) -> None:
    secret = request.cookies.get(COOKIE)
    if secret:
        await request.app.state.services.pool.execute(
            "DELETE FROM staff_sessions WHERE secret_hash = $1", _hash(secret)
        )
    response.delete_cookie(COOKIE, path=COOKIE_PATH)


def sign_in_token(request: Request) -> str:
    """The sign-in form's CSRF token: kept in a cookie and repeated in the form (double submit)."""
    token = request.cookies.get(SIGN_IN_COOKIE)
    return token if token and len(token) < 100 else secrets.token_urlsafe(24)


def keep_sign_in_token(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE, token, path=COOKIE_PATH, httponly=True, secure=secure, samesite="lax", max_age=3600
    )


def check_sign_in_form(request: Request, token: str | None) -> None:
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not token or not expected or not hmac.compare_digest(token, expected):
        raise FormRefused()
