"""The resident's own complaint pages (GOV.UK patterns, server-rendered forms that work without JavaScript):
signing in (`sign_in.py`), the complaint's page (`complaint.py`), its actions (`actions.py`), evidence
uploads (`evidence.py`) and the equality questions (`equality.py`); `session.py` holds the page session,
`pages.py` the rendering. Making a complaint is `api/routes/resident_pages.py` and `resident_make.py`.

The routers are included after making a complaint's (`/complaint/make` and the old form's address,
`/complaint/new`, are not references), sign-in's first (`/complaint/track` is not one either).
"""

from __future__ import annotations

from fastapi import APIRouter

from web.resident import actions, complaint, equality, evidence, sign_in

router = APIRouter(include_in_schema=False)
for module in (sign_in, equality, evidence, complaint, actions):
    router.include_router(module.router)
