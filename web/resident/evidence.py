"""Evidence the resident sends from the complaint's page (a multipart form, field `file`): checked and
stored as staff uploads are (`api/attachments.py`), within the day's allowance; none once the complaint is
finished."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from api.deps import RequestId, ServicesDep
from api.errors import ProblemError
from api.resident import actions
from api.resident.tokens import form_key, same
from api.resident.view import view
from api.virus_scan import INFECTED_DETAIL
from web.resident.complaint import evidence_hint, status_page
from web.resident.pages import see_other
from web.resident.session import SignedInPage

router = APIRouter(include_in_schema=False)


@router.post("/complaint/{reference}/evidence", response_class=HTMLResponse)
async def send_evidence(
    reference: str,
    request: Request,
    services: ServicesDep,
    request_id: RequestId,
    page: SignedInPage,
) -> Response:
    """A file the resident sends as evidence (multipart form, field `file`)."""
    if isinstance(page, HTMLResponse):
        return page
    access, token = page.access, page.session
    form = await request.form()
    if not same(str(form.get("form_key", "")), form_key(token)):
        return see_other(f"/complaint/{reference}")
    if not (await view(services, access)).possible.send_information:
        return see_other(f"/complaint/{reference}")  # a finished complaint takes no more evidence
    upload = form.get("file")
    if not isinstance(upload, StarletteUpload) or not upload.filename:
        errors = {"file": "Select a file"}
        return await status_page(services, access, token, errors=errors, status_code=422)
    try:
        await actions.send_evidence(services, access, upload, request_id)
    except ProblemError as error:
        message = {
            413: "The selected file must be smaller than "
            + evidence_hint(services).rsplit("up to ", 1)[-1][:-1],
            415: "The selected file must be a PDF, Word document, JPEG, PNG or text file",
            422: "The selected file contains a virus"
            if error.problem.detail == INFECTED_DETAIL
            else "The selected file is empty",
        }.get(error.problem.status, error.problem.detail or "The file could not be added")
        page = await status_page(
            services, access, token, errors={"file": message}, status_code=error.problem.status
        )
        page.headers.update(error.headers or {})  # the daily limit's Retry-After, as the API gives it
        return page
    return see_other(f"/complaint/{reference}?done=evidence")
