"""Reading policy files (TOML) from disk, with errors that name the file, the field and the reason."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from domain.policy import Policy


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


def check_policy_file(path: Path) -> tuple[Policy | None, list[PolicyProblem]]:
    """Parse and validate one file; return the policy or every problem found."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [PolicyProblem(path, "", f"cannot read: {exc}")]
    except tomllib.TOMLDecodeError as exc:
        return None, [PolicyProblem(path, "", f"not valid TOML: {exc}")]
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        return None, [
            PolicyProblem(path, ".".join(str(part) for part in error["loc"]), error["msg"])
            for error in exc.errors()
        ]
    if policy.id != path.stem:
        return None, [PolicyProblem(path, "id", f"id {policy.id!r} must match the file name {path.stem!r}")]
    return policy, []


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
