"""What a policy file leaves unsaid comes from its nation's own model procedure (issue 28).

A council's published procedure is often silent on something the format needs (the time limit, how far an
officer may extend, how long the complainant has to ask for Stage 2). Such a value is taken from the model
procedure of the council's nation, the shipped model files:

| nation (or ombudsman)                   | model file                   |
|-----------------------------------------|------------------------------|
| `scotland`                              | `scotland-model` (SPSO)      |
| `northern-ireland`                      | `northern-ireland-model`     |
| `wales`, or any with ombudsman `psow`   | `wales-model` (PSOW)         |
| otherwise (England)                     | `complaint-handling-code`    |

Only values the schema cannot default on its own are filled (a field with a schema default keeps it), so a
file that says everything means exactly what it says, and every existing file keeps its meaning. Each value
filled in is reported, so `complaints policy check` can tell the author which defaults it applied.

Pure: works on the parsed TOML (dicts); reading the model files is the caller's (domain.policy_files).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

SCOTLAND_MODEL = "scotland-model"
NORTHERN_IRELAND_MODEL = "northern-ireland-model"
WALES_MODEL = "wales-model"
ENGLAND_MODEL = "complaint-handling-code"
MODEL_IDS = (SCOTLAND_MODEL, NORTHERN_IRELAND_MODEL, WALES_MODEL, ENGLAND_MODEL)

# The fields of a table filled in one by one (the rest of the table is the file's own).
_TABLE_FIELDS = {
    "time_limit": ("months",),
    "complainants": ("anonymous_allowed",),
    "ombudsman": ("body", "signposting"),
}
# A stage's fields taken from the model's stage of the same number when the file's stage leaves them out.
_STAGE_FIELDS = ("name", "investigated_by", "acknowledge", "respond", "extension")


@dataclass(frozen=True)
class DefaultApplied:
    """One value a file left unsaid, and the model file it came from."""

    field: str
    value: Any
    model: str

    def __str__(self) -> str:
        return f"{self.field} = {_show(self.value)} (from {self.model})"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_show(item)}" for key, item in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + (value if len(value) <= 60 else value[:57] + "...") + '"'
    return str(value)


def model_for(data: dict[str, Any]) -> str | None:
    """The id of the model file whose values fill this file's silences, or None for a model file itself."""
    if data.get("id") in MODEL_IDS:
        return None
    nation = data.get("nation")
    ombudsman = data.get("ombudsman")
    body = ombudsman.get("body") if isinstance(ombudsman, dict) else None
    if nation == "scotland":
        return SCOTLAND_MODEL
    if nation == "northern-ireland":
        return NORTHERN_IRELAND_MODEL
    if nation == "wales" or body == "psow":
        return WALES_MODEL
    return ENGLAND_MODEL


def apply_defaults(
    data: dict[str, Any], model: dict[str, Any], model_id: str
) -> tuple[dict[str, Any], list[DefaultApplied]]:
    """The file's data with its silences filled from the model's data, and what was filled."""
    filled = copy.deepcopy(data)
    applied: list[DefaultApplied] = []

    def take(target: dict[str, Any], key: str, value: Any, field: str) -> None:
        target[key] = copy.deepcopy(value)
        applied.append(DefaultApplied(field, value, model_id))

    for table, fields in _TABLE_FIELDS.items():
        if table not in model or (table == "ombudsman" and model_id == ENGLAND_MODEL):
            # England has two ombudsmen (LGSCO for councils, the Housing Ombudsman for landlords): the file
            # must name its own.
            continue
        if table not in filled:
            take(filled, table, model[table], table)
            continue
        own = filled[table]
        if not isinstance(own, dict):
            continue  # the schema reports it
        if table == "ombudsman" and own.get("body", model[table].get("body")) != model[table].get("body"):
            continue  # another ombudsman's signposting would be wrong: the file must say its own
        for key in fields:
            if key not in own and key in model[table]:
                take(own, key, model[table][key], f"{table}.{key}")

    model_stages = {stage.get("number"): stage for stage in model.get("stages", [])}
    if "stages" not in filled:
        take(filled, "stages", model.get("stages", []), "stages")
        return filled, applied
    stages = filled["stages"]
    if not isinstance(stages, list):
        return filled, applied
    numbers = [stage.get("number") for stage in stages if isinstance(stage, dict)]
    for index, stage in enumerate(stages):
        if not isinstance(stage, dict) or stage.get("number") not in model_stages:
            continue
        source = model_stages[stage["number"]]
        for key in _STAGE_FIELDS:
            if key not in stage and key in source:
                take(stage, key, source[key], f"stages.{index}.{key}")
        extension = stage.get("extension")
        if isinstance(extension, dict) and "officer_limit_working_days" not in extension:
            limit = source.get("extension", {}).get("officer_limit_working_days")
            if limit is not None:
                take(
                    extension,
                    "officer_limit_working_days",
                    limit,
                    f"stages.{index}.extension.officer_limit_working_days",
                )
        # Only a stage the complainant can move on from has an escalation window.
        has_next = stage["number"] + 1 in numbers
        if has_next and "escalation_request" not in stage and "escalation_request" in source:
            take(
                stage,
                "escalation_request",
                source["escalation_request"],
                f"stages.{index}.escalation_request",
            )
    return filled, applied
