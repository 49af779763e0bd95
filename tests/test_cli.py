"""The `complaints` command line, called in-process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli.main import main
from tests.shipped_policies import ENGLISH, POLICIES_DIR


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


def test_policy_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(POLICIES_DIR / f"{policy_id}.toml") for policy_id in ENGLISH]
    assert main(["policy", "check", *files]) == 0
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == len(ENGLISH)
    for path, line in zip(files, lines, strict=True):
        assert line.startswith(f"{path}: OK")


def test_policy_check_reports_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "bexley.toml"
    shutil.copy(POLICIES_DIR / "bexley.toml", good)
    bad = tmp_path / "typo.toml"
    bad.write_text(
        (POLICIES_DIR / "bexley.toml")
        .read_text(encoding="utf-8")
        .replace('id = "bexley"', 'id = "typo"', 1)
        .replace('nation = "england-and-wales"', 'nation = "cornwall"', 1)
        .replace("closure_days = []", "closure_day = []", 1),
        encoding="utf-8",
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("id = \n", encoding="utf-8")

    assert main(["policy", "check", str(good), str(bad), str(broken)]) == 1
    lines = _lines(capsys.readouterr().out)
    assert lines[0].startswith(f"{good}: OK")
    assert f"{bad}: closure_day: Extra inputs are not permitted" in lines
    assert any(line.startswith(f"{bad}: nation: Input should be") for line in lines)
    assert any(line.startswith(f"{broken}: <file>: not valid TOML") for line in lines)
    assert len(lines) == 4


def test_policy_check_needs_a_file() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["policy", "check"])
    assert caught.value.code == 2


def test_deadlines_by_policy_id(capsys: pytest.CaptureFixture[str]) -> None:
    # Westminster, received Wed 23 Dec 2026: ack 2 -> Tue 29 Dec; respond 10 -> Mon 11 Jan 2027;
    # extension + 10 -> Mon 25 Jan (see tests/test_calendar.py for the counts)
    assert main(["deadlines", "westminster", "2026-12-23", "--policies-dir", str(POLICIES_DIR)]) == 0
    lines = _lines(capsys.readouterr().out)
    assert "acknowledge_by: 2026-12-29" in lines
    assert "respond_by: 2027-01-11" in lines
    assert "extension_limit_by: 2027-01-25" in lines
    assert "escalation_request_by: not yet (give --responded)" in lines


def test_deadlines_default_policies_dir_and_rfc3339(capsys: pytest.CaptureFixture[str]) -> None:
    # 23:30 UTC Fri 2 Jul 2027 is Sat 3 Jul BST: day 0 Mon 5 Jul; seed 004 ack 5 -> Mon 12 Jul; respond 20
    # -> Mon 2 Aug; + 10 -> Mon 16 Aug. Responded Fri 2 Jul + 20 working days: 5 Fri 9, 10 Fri 16, 15 Fri 23,
    # 20 Fri 30 Jul.
    assert main(["deadlines", "council-004", "2027-07-02T23:30:00Z", "--responded", "2027-07-02"]) == 0
    lines = _lines(capsys.readouterr().out)
    assert "day_zero: 2027-07-05" in lines
    assert "acknowledge_by: 2027-07-12" in lines
    assert "respond_by: 2027-08-02" in lines
    assert "extension_limit_by: 2027-08-16" in lines
    assert "escalation_request_by: 2027-07-30" in lines


def test_deadlines_by_file_stage_two_acknowledged(capsys: pytest.CaptureFixture[str]) -> None:
    # Code Stage 2, request Mon 15 Mar 2027, acknowledged Tue 16 Mar: respond 20 from it over Easter ->
    # Thu 15 Apr; + 20 -> Fri 14 May (Mon 3 May is a bank holiday)
    path = str(POLICIES_DIR / "complaint-handling-code.toml")
    args = ["deadlines", path, "2027-03-15T09:00:00+00:00", "--stage", "2", "--acknowledged", "2027-03-16"]
    assert main(args) == 0
    lines = _lines(capsys.readouterr().out)
    assert "acknowledge_by: 2027-03-22" in lines
    assert "respond_by: 2027-04-15" in lines
    assert "extension_limit_by: 2027-05-14" in lines
    assert "escalation_request_by: none (last stage)" in lines


def test_deadlines_calendar_day_escalation(capsys: pytest.CaptureFixture[str]) -> None:
    # Barking: 28 calendar days from a response on Mon 30 Nov 2026 -> Mon 28 Dec 2026 (a bank holiday:
    # calendar-day windows are not moved)
    assert main(["deadlines", "barking-dagenham", "2026-11-02", "--responded", "2026-11-30"]) == 0
    assert "escalation_request_by: 2026-12-28" in _lines(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deadlines", "nowhere", "2027-01-04"], "no policy 'nowhere'"),
        (["deadlines", "bexley", "2027-13-01"], "is not a date"),
        (["deadlines", "bexley", "next tuesday"], "is not a date or an RFC 3339 date-time"),
        (["deadlines", "bexley", "2027-01-04T10:00:00"], "has no UTC offset"),
        (["deadlines", "bexley", "2027-01-04", "--responded", "soon"], "--responded"),
    ],
)
def test_deadlines_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*args, "--policies-dir", str(POLICIES_DIR)]) == 2
    assert message in capsys.readouterr().err


def test_deadlines_on_an_invalid_policy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bromley.toml"
    shutil.copy(POLICIES_DIR / "bexley.toml", path)
    assert main(["deadlines", str(path), "2027-01-04"]) == 1
    assert f"{path}: id: " in capsys.readouterr().err
