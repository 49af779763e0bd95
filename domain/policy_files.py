"""Reading policy files (TOML) from disk, with errors that name the file, the field and the reason."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from domain.policy import Policy
from domain.policy_defaults import DefaultApplied, apply_defaults, model_for

# The shipped model files (issue 28: a file's silences come from its nation's model), wherever POLICIES_DIR
# points: they are the nations' procedures, not a deployment's choice.
MODELS_DIR = Path(__file__).resolve().parent.parent / "policies"


@dataclass(frozen=True)
class PolicyProblem:
    file: Path
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field or '<file>'}: {self.reason}"


class PolicyFileError(Exception):
    """One or more policy files are invalid; `problems` lists each one."""

    def __init__(self, problems: list[PolicyProblem]):
        self.problems = problems
        super().__init__("invalid policy file(s):\n" + "\n".join(f"  {problem}" for problem in problems))


@dataclass(frozen=True)
class PolicyReading:
    """One file read: the policy (None if invalid), its problems and the nation's defaults it took."""

    policy: Policy | None
    problems: list[PolicyProblem]
    defaults: list[DefaultApplied] = field(default_factory=list)


@lru_cache(maxsize=8)
def _model_data(model_id: str) -> dict[str, Any]:
    return tomllib.loads((MODELS_DIR / f"{model_id}.toml").read_text(encoding="utf-8"))


def read_policy_file(path: Path) -> PolicyReading:
    """Parse one file, fill what it leaves unsaid from its nation's model file, validate it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return PolicyReading(None, [PolicyProblem(path, "", f"cannot read: {exc}")])
    except tomllib.TOMLDecodeError as exc:
        return PolicyReading(None, [PolicyProblem(path, "", f"not valid TOML: {exc}")])
    defaults: list[DefaultApplied] = []
    model_id = model_for(data)
    if model_id is not None:
        data, defaults = apply_defaults(data, _model_data(model_id), model_id)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = [
            PolicyProblem(path, ".".join(str(part) for part in error["loc"]), error["msg"])
            for error in exc.errors()
        ]
        return PolicyReading(None, problems, defaults)
    if policy.id != path.stem:
        problem = PolicyProblem(path, "id", f"id {policy.id!r} must match the file name {path.stem!r}")
        return PolicyReading(None, [problem], defaults)
    return PolicyReading(policy, [], defaults)


def check_policy_file(path: Path) -> tuple[Policy | None, list[PolicyProblem]]:
    """Parse and validate one file; return the policy or every problem found."""
    reading = read_policy_file(path)
    return reading.policy, reading.problems


def load_policy_file(path: Path) -> Policy:
    policy, problems = check_policy_file(path)
    if policy is None:
        raise PolicyFileError(problems)
    return policy


def load_policies(folder: Path) -> dict[str, Policy]:
    """Every `*.toml` policy in `folder`, by id. Any invalid file stops the load: the service must not run
    a council's complaints on a policy it could not read."""
    if not folder.is_dir():
        raise PolicyFileError([PolicyProblem(folder, "", "policy folder does not exist")])
    policies: dict[str, Policy] = {}
    problems: list[PolicyProblem] = []
    for path in sorted(folder.glob("*.toml")):
        policy, file_problems = check_policy_file(path)
        problems.extend(file_problems)
        if policy is not None:
            policies[policy.id] = policy
    if problems:
        raise PolicyFileError(problems)
    if not policies:
        raise PolicyFileError([PolicyProblem(folder, "", "no policy files (*.toml) found")])
    return policies
