"""Development only: the messages the local SMTP catcher received (devstack/mail.py).

Included (and imported) in development only, by api/development.py: outside the dev stack there is no
catcher, and a production install has no devstack nor aiosmtpd.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import SettingsDep
from api.errors import ProblemError
from devstack.mail import list_messages, mail_dir, read_message

router = APIRouter(prefix="/dev", tags=["development"])


@router.get("/mail")
async def caught_mail(settings: SettingsDep) -> list[dict[str, Any]]:
    """Every message the dev stack's SMTP catcher received, newest first: from, to, subject, date, preview."""
    return list_messages(mail_dir(settings))


@router.get("/mail/{name}")
async def caught_message(name: str, settings: SettingsDep) -> dict[str, Any]:
    """One caught message: its headers, plain text and HTML."""
    message = read_message(mail_dir(settings), name)
    if message is None:
        raise ProblemError(404, "Not found", f"no caught message {name!r}")
    return message
