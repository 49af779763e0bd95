"""What every console page passes its layout: who is signed in, the form token, which menu items they see."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from api.permissions import allowed
from core.services import Services
from web.staff.session import StaffSession


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def layout(session: StaffSession, section: str = "") -> dict[str, Any]:
    staff = session.staff
    return {
        "staff": staff,
        "csrf": session.csrf_token,
        "section": section,
        "can_create": allowed("create", staff.role),
        "is_manager": allowed("reports", staff.role),
        "triage_waiting": session.triage_waiting,
    }
