"""The README stays true: its first commands, its settings table and its permission matrix."""

from __future__ import annotations

import re

from api.permissions import PERMISSIONS, allowed, matrix_markdown
from core.settings import REPO_ROOT, Settings
from domain.actions import ACTIONS
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


def test_permission_matrix_is_generated_from_the_action_table() -> None:
    """The README's table is exactly what `python -m api.permissions` prints from the action table."""
    block = README.split("<!-- permission-matrix")[1].split("<!-- /permission-matrix -->")[0]
    table = "\n".join(line for line in block.splitlines() if line.startswith("|"))
    assert table == matrix_markdown()


def test_every_action_of_the_table_is_in_the_matrix_with_its_roles() -> None:
    assert set(ACTIONS) <= set(PERMISSIONS)
    for name, action in ACTIONS.items():
        for role in ROLES:
            assert allowed(name, role, 1) == action.allows(role, 1)
            assert allowed(name, role, 2) == action.allows(role, 2)
    # Stage 2 is answered by a reviewer, never by a Stage 1 investigator.
    assert allowed("respond", Role.INVESTIGATOR, 1) and not allowed("respond", Role.INVESTIGATOR, 2)
    assert allowed("respond", Role.REVIEWER, 2) and not allowed("respond", Role.REVIEWER, 1)
