"""What a resident sends and is answered with (the public API's bodies, shared by the resident pages)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api.resident.tokens import MAX_TOKEN_LENGTH
from domain.inputs import CleanInput
from domain.models import Status


class Dates(BaseModel):
    received_on: date
    acknowledge_by: date | None
    respond_by: date | None
    agreed_up_to: date | None = Field(description="The latest response date you agreed to, if any.")
    escalation_request_by: date | None = Field(description="While a review can be asked for: until when.")
    acknowledged_on: date | None
    responded_on: date | None
    closed_on: date | None
    # Past a date we gave and not yet done: the page says "we said we would ... by", never "we will".
    acknowledgement_late: bool = Field(default=False, description="The acknowledgement date has passed.")
    response_late: bool = Field(default=False, description="The response date has passed, no response yet.")


class Letter(BaseModel):
    title: str
    template: str
    created_on: date
    sent: bool
    # Left for the council to post (the complainant has no e-mail address or asked for letters).
    by_post: bool = False


class Possible(BaseModel):
    """What the resident may do now (the workflow still has the last word)."""

    send_information: bool
    answer_extension: bool
    ask_for_review: bool
    withdraw: bool


class ExtensionQuestion(BaseModel):
    """The council asked whether it may send its response later (and has no answer yet)."""

    asked_on: date
    up_to: date = Field(description="The date the council asks to respond by instead.")
    reason: str = Field(default="", description="Why the council needs more time.")


class ResidentComplaintView(BaseModel):
    """What a resident sees of their complaint: never internal notes, staff names or the audit trail."""

    reference: str
    council: str
    stage: int
    stage_name: str
    status: Status
    status_text: str
    outcome: str | None
    service_area: str
    summary: str
    desired_outcome: str
    dates: Dates
    letters: list[Letter]
    possible: Possible
    extension_question: ExtensionQuestion | None = Field(
        default=None, description="The council's question about a later response, while it waits for you."
    )


class ResidentAttachment(BaseModel):
    """A file the resident sent, as the answer to the upload."""

    id: str
    filename: str
    content_type: str
    size: int


class EscalationResult(BaseModel):
    accepted: bool
    stage: int
    status: Status
    message: str
    complaint: ResidentComplaintView


class InformationBody(CleanInput):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"summary": "The mould has spread to the hallway."}]},
    )

    summary: str = Field(min_length=1, max_length=10_000)


class ExtensionAnswerBody(CleanInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"agreed": True, "up_to": "2027-01-29"}]})

    agreed: bool
    up_to: date | None = None


class EscalationBody(CleanInput):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"reasons": "The damp has come back.", "outcome_wanted": "A full survey of the flat."}
            ]
        },
    )

    # The Complaint Handling Code (6.12): a resident must not be required to explain why they want Stage 2.
    reasons: str = Field(default="", max_length=10_000)
    outcome_wanted: str = Field(default="", max_length=5_000)


class WithdrawBody(CleanInput):
    model_config = ConfigDict(
        str_strip_whitespace=True, json_schema_extra={"examples": [{"reason": "Sorted out informally."}]}
    )

    reason: str = Field(default="", max_length=5_000)


class AccessLinkRequest(CleanInput):
    email: EmailStr


class AccessCodeExchange(CleanInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "the code from the e-mailed link"}]})

    code: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH, description="The `code` of the link.")


class AccessToken(BaseModel):
    access_token: str = Field(description="Shown once: it opens this complaint only.")
    access_token_expires_at: datetime
