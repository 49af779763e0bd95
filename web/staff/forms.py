"""An action's form, derived from its command model (the API's request body, api.routes.actions.body_model):
one field per model field, its widget from its type, nested models as fieldsets; the posted form read back
into the same model, so the page and the API validate alike, and pydantic's errors named by field for the
GOV.UK error summary."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from starlette.datastructures import FormData

from web.layout import LONDON, words

# Repeated parts (remedies, actions, improvements): this many blank groups on the form.
REPEATS = 2
# Fields the service fills in itself, never typed by staff (by model): the API's actor, ETag and directory
# look-ups, and a promised action's tracking.
SERVICE_FILLED: dict[str, frozenset[str]] = {
    "*": frozenset({"expected_seq", "assignee_role"}),
    "ActionItem": frozenset({"due_at", "completed_at", "completed_by", "overdue", "kind"}),
}


def _typed_fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    skipped = SERVICE_FILLED["*"] | SERVICE_FILLED.get(model.__name__, frozenset())
    return {name: info for name, info in model.model_fields.items() if name not in skipped}


LABELS = {
    "note": "Note (optional)",
    "update_every_working_days": "Agreed update cadence, in working days (optional)",
    "assignee": "Assign to (staff id)",
    "exclusion_code": "Why is it not a complaint under the policy?",
    "reason": "Reason",
    "request": "What information do you need?",
    "summary": "Summary",
    "new_respond_by": "New response date",
    "agreed": "Did the complainant agree?",
    "up_to": "Agreed up to (optional)",
    "outcome": "Outcome",
    "findings": "Findings",
    "sent_by": "How the response is sent",
    "text": "Note",
    "action_id": "Which promised action?",
    "reasons": "Reasons",
    "outcome_wanted": "Outcome wanted",
    "received_at": "When the request arrived (optional, London time)",
    "accept_late_reason": "Why a late request is accepted (optional)",
    "consent_kind": "What kind of consent?",
    "received_on": "Consent received on",
    "until": "Restricted until",
    "review_on": "Review on",
    "channels": "Channels closed",
    "desired_outcome": "Outcome wanted (optional)",
    "service_area": "Service area (optional)",
    "decision": "Decision",
    "remedy": "Remedy (optional)",
    "body": "Ombudsman (optional)",
    "ombudsman_reference": "Ombudsman's reference (optional)",
}


@dataclass
class Field:
    name: str
    label: str
    widget: str  # text, textarea, number, date, datetime, radios, select, checkboxes
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: Any = ""


@dataclass
class Group:
    legend: str
    fields: list[Field | Group]


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside Optional[...], and whether None was allowed."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _max_length(info: FieldInfo) -> int | None:
    for meta in info.metadata:
        limit = getattr(meta, "max_length", None)
        if limit is not None:
            return int(limit)
    return None


def _choices(kind: Any) -> list[tuple[str, str]] | None:
    if isinstance(kind, type) and issubclass(kind, Enum):
        return [(str(member.value), words(str(member.value))) for member in kind]
    if get_origin(kind) is Literal:
        return [(str(value), words(str(value))) for value in get_args(kind)]
    return None


def fields_of(
    model: type[BaseModel], choices: dict[str, list[tuple[str, str]]], prefix: str = ""
) -> list[Field | Group]:
    found: list[Field | Group] = []
    for name, info in _typed_fields(model).items():
        html = f"{prefix}{name}"
        kind, _ = _unwrap(info.annotation)
        label = LABELS.get(name) or words(name)
        required = info.is_required()
        if name in choices:
            found.append(
                Field(html, label, "select" if len(choices[name]) > 6 else "radios", required, choices[name])
            )
        elif get_origin(kind) is list:
            (item,) = get_args(kind)
            if isinstance(item, type) and issubclass(item, BaseModel):
                for index in range(REPEATS):
                    found.append(
                        Group(
                            f"{words(name).rstrip('s')} {index + 1} (optional)",
                            fields_of(item, choices, f"{html}-{index}-"),
                        )
                    )
            else:
                found.append(Field(html, label, "checkboxes", required, _choices(item) or []))
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            found.append(Group(f"{words(name)} (optional)", fields_of(kind, choices, f"{html}-")))
        elif (options := _choices(kind)) is not None:
            found.append(Field(html, label, "radios" if len(options) <= 6 else "select", required, options))
        elif kind is bool:
            found.append(Field(html, label, "radios", required, [("yes", "Yes"), ("no", "No")]))
        elif kind is int:
            found.append(Field(html, label, "number", required))
        elif kind is date:
            found.append(Field(html, label, "date", required))
        elif kind is datetime:
            found.append(Field(html, label, "datetime", required))
        else:
            limit = _max_length(info)
            found.append(Field(html, label, "textarea" if (limit or 0) >= 1000 else "text", required))
    return found


def _value(form: FormData, model: type[BaseModel], prefix: str) -> dict[str, Any]:
    """The model's fields from the posted form: blanks left out (the model's defaults apply)."""
    data: dict[str, Any] = {}
    for name, info in _typed_fields(model).items():
        html = f"{prefix}{name}"
        kind, _ = _unwrap(info.annotation)
        if get_origin(kind) is list:
            (item,) = get_args(kind)
            if isinstance(item, type) and issubclass(item, BaseModel):
                items = [_value(form, item, f"{html}-{index}-") for index in range(REPEATS)]
                data[name] = [entry for entry in items if entry]
                if not data[name]:
                    del data[name]
            elif form.getlist(html):
                data[name] = form.getlist(html)
            continue
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            nested = _value(form, kind, f"{html}-")
            if nested:
                data[name] = nested
            continue
        raw = form.get(html)
        if not isinstance(raw, str) or not raw.strip():
            continue
        if kind is bool:
            data[name] = raw == "yes"
        elif kind is datetime:
            try:
                data[name] = datetime.fromisoformat(raw).replace(tzinfo=LONDON)
            except ValueError:
                data[name] = raw
        else:
            data[name] = raw
    return data


def read_form(
    form: FormData, model: type[BaseModel]
) -> tuple[BaseModel | None, dict[str, str], dict[str, Any]]:
    """The body model from the form, or the errors by field name (as the form names them); and what was
    typed, to show again."""
    typed = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    try:
        return model.model_validate(_value(form, model, "")), {}, typed
    except ValidationError as error:
        errors: dict[str, str] = {}
        for problem in error.errors():
            location = [str(part) for part in problem["loc"]]
            name = "-".join(location) if location else "form"
            label = LABELS.get(location[-1] if location else "", words(location[-1]) if location else "Form")
            label = label.removesuffix(" (optional)")
            if problem["type"] == "missing":
                message = (
                    f"Enter {label[:1].lower() + label[1:]}"
                    if not label.endswith("?")
                    else f"Answer: {label}"
                )
            else:
                message = f"{label}: {problem['msg'].removeprefix('Value error, ')}"
            errors.setdefault(name, message)
        return None, errors, typed
