"""The README stays true: its first commands, its settings table and its permission matrix."""

from __future__ import annotations

import re

from api.permissions import PERMISSIONS, allowed
from core.settings import REPO_ROOT, Settings
from domain.models import Role

README = (REPO_ROOT / "README.md").read_text()
ROLES = [Role.COMPLAINTS_OFFICER, Role.INVESTIGATOR, Role.REVIEWER, Role.MANAGER, Role.ADMIN, Role.AUDITOR]


def test_first_lines_show_the_two_commands_and_ci_runs_the_test_one() -> None:
    first_lines = README.splitlines()[:6]
    assert any(line.startswith("make run") for line in first_lines)
    assert any(line.startswith("make test") for line in first_lines)
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.MULTILINE)


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", README, re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}


def _cell(action: str, role: Role) -> str:
    first, second = allowed(action, role, 1), allowed(action, role, 2)
    if first and second:
        return "yes"
    return "stage 1" if first else "stage 2" if second else "-"


def test_permission_matrix_matches_the_code() -> None:
    block = README.split("<!-- permission-matrix")[1].split("<!-- /permission-matrix -->")[0]
    rows = [line for line in block.splitlines() if line.startswith("| ") and not line.startswith("| action")]
    documented = {
        cells[0]: cells[1:] for cells in ([c.strip() for c in row.strip("|").split("|")] for row in rows)
    }
    expected = {action: [_cell(action, role) for role in ROLES] for action in PERMISSIONS}
    assert documented == expected
