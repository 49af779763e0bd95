"""Operations read a complaint at a glance in the real Temporal Web UI (the dev server's UI, in headless
Chromium): the list answers a saved-view query, and a complaint's page shows its summary and current
details, with no personal data in either. The screenshots are kept in the test's folder (docs/ holds the
README's copies)."""

from __future__ import annotations

import re
from pathlib import Path

from devstack.ui_screenshot import screenshot
from tests.browser import NEEDS_CHROMIUM

pytestmark = NEEDS_CHROMIUM


async def test_the_ui_shows_each_complaints_summary_and_current_details(tmp_path: Path) -> None:
    out = tmp_path / "temporal-ui.png"
    text = await screenshot(out)
    assert out.stat().st_size > 10_000 and (tmp_path / "temporal-ui-detail.png").stat().st_size > 10_000
    # The list of the saved-view query (ExecutionStatus = "Running" AND Stage = 1): all four complaints.
    assert len(set(re.findall(r"complaint-CMP-\d{4}-\d{6}", text))) == 4
    assert "London Borough of Bexley · housing-repairs · by email" in text  # the summary set at start
    assert "Stage 1 (Investigation): acknowledged" in text and "Next deadline: " in text
    assert "Overdue: no" in text
    details = text[text.index("Stage 1 (Investigation)") :]
    assert "Demo Resident" not in details and "demo@example.org" not in details  # no personal data
