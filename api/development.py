"""The development-only routes: the dev token endpoint (outside production) and the mail catcher's viewer
(`/dev/mail`, in development).

They are imported here, inside the function, and only when the app is built outside production: the mail
viewer imports devstack (and through it aiosmtpd, a `dev` extra that a production install does not have),
so a production app never imports them and answers 404 on their paths.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from core.settings import Settings


def include_development_routers(app: FastAPI, settings: Settings, responses: dict[int | str, Any]) -> None:
    if settings.environment == "production":
        return
    from api.routes import dev_token

    app.include_router(dev_token.router, responses=responses)
    if settings.environment == "development":
        from api.routes import dev_mail

        app.include_router(dev_mail.router, responses=responses)
