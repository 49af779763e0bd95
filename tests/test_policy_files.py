"""Policy files: every shipped file loads, and a broken file is reported by file, field and reason."""

from __future__ import annotations

import re
import shutil
import tomllib
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.deadlines import plan_stage
from domain.policy import CountsFrom, Nation, Ombudsman, Policy, Unit
from domain.policy_files import (
    PolicyFileError,
    check_policy_file,
    load_policies,
    load_policy_file,
    read_policy_file,
)
from tests.shipped_policies import POLICIES_DIR, SHIPPED

BEXLEY = (POLICIES_DIR / "bexley.toml").read_text(encoding="utf-8")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _bexley_as(policy_id: str) -> str:
    return BEXLEY.replace('id = "bexley"', f'id = "{policy_id}"', 1)


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_every_shipped_file_loads(policy_id: str) -> None:
    path = POLICIES_DIR / f"{policy_id}.toml"
    policy, problems = check_policy_file(path)
    assert problems == []
    assert policy is not None
    assert policy.id == policy_id
    assert [stage.number for stage in policy.stages] == [1, 2]


def test_load_policies_reads_the_shipped_folder() -> None:
    assert sorted(load_policies(POLICIES_DIR)) == sorted(SHIPPED)


@pytest.mark.parametrize(
    ("policy_id", "ombudsman", "s1_respond_from", "escalation", "s2_respond_from"),
    [
        (
            "bexley",
            Ombudsman.LGSCO,
            CountsFrom.RECEIPT,
            (20, Unit.WORKING_DAYS),
            CountsFrom.ESCALATION_REQUEST,
        ),
        (
            "westminster",
            Ombudsman.LGSCO,
            CountsFrom.RECEIPT,
            (20, Unit.WORKING_DAYS),
            CountsFrom.ESCALATION_REQUEST,
        ),
        (
            "barking-dagenham",
            Ombudsman.LGSCO,
            CountsFrom.ACKNOWLEDGEMENT,
            (28, Unit.CALENDAR_DAYS),
            CountsFrom.ESCALATION_REQUEST,
        ),
        (
            "council-003",
            Ombudsman.LGSCO,
            CountsFrom.RECEIPT,
            (20, Unit.WORKING_DAYS),
            CountsFrom.ESCALATION_REQUEST,
        ),
        (
            "council-004",
            Ombudsman.LGSCO,
            CountsFrom.RECEIPT,
            (20, Unit.WORKING_DAYS),
            CountsFrom.ESCALATION_REQUEST,
        ),
        (
            "complaint-handling-code",
            Ombudsman.HOUSING_OMBUDSMAN,
            CountsFrom.ACKNOWLEDGEMENT,
            (20, Unit.WORKING_DAYS),
            CountsFrom.ACKNOWLEDGEMENT,
        ),
    ],
)
def test_shipped_files_say_what_the_seeds_say(
    policy_id: str,
    ombudsman: Ombudsman,
    s1_respond_from: CountsFrom,
    escalation: tuple[int, Unit],
    s2_respond_from: CountsFrom,
) -> None:
    policy = load_policy_file(POLICIES_DIR / f"{policy_id}.toml")
    assert policy.ombudsman.body is ombudsman
    assert policy.stage(1).respond.counts_from is s1_respond_from
    window = policy.stage(1).escalation_request
    assert window is not None
    assert (window.amount, window.unit) == escalation
    assert policy.stage(2).respond.counts_from is s2_respond_from
    assert policy.time_limit.months == 12
    assert policy.nation is Nation.ENGLAND_AND_WALES


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken", 'id = "broken"\nname = "Broken\n')
    policy, problems = check_policy_file(path)
    assert policy is None
    assert len(problems) == 1
    assert problems[0].file == path
    assert problems[0].field == ""
    assert problems[0].reason.startswith("not valid TOML")
    assert str(problems[0]).startswith(f"{path}: <file>: not valid TOML")


def test_unknown_key_is_reported_not_ignored(tmp_path: Path) -> None:
    # a typo in a stage key must not fall back silently to a default
    text = _bexley_as("typo").replace(
        "late_escalation_at_discretion = true", "late_escalation_at_discretoin = true", 1
    )
    path = _write(tmp_path, "typo", text)
    policy, problems = check_policy_file(path)
    assert policy is None
    assert [(problem.file, problem.field) for problem in problems] == [
        (path, "stages.0.late_escalation_at_discretoin")
    ]
    assert problems[0].reason == "Extra inputs are not permitted"


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = _bexley_as("extra").replace("closure_days = []", "closure_day = []", 1)
    _, problems = check_policy_file(_write(tmp_path, "extra", text))
    assert [problem.field for problem in problems] == ["closure_day"]


def test_missing_field(tmp_path: Path) -> None:
    text = _bexley_as("missing").replace('nation = "england-and-wales"\n', "", 1)
    path = _write(tmp_path, "missing", text)
    policy, problems = check_policy_file(path)
    assert policy is None
    assert [(problem.file, problem.field, problem.reason) for problem in problems] == [
        (path, "nation", "Field required")
    ]


def test_wrong_enum_value(tmp_path: Path) -> None:
    text = _bexley_as("cornwall").replace('nation = "england-and-wales"', 'nation = "cornwall"', 1)
    path = _write(tmp_path, "cornwall", text)
    _, problems = check_policy_file(path)
    assert len(problems) == 1
    assert problems[0].field == "nation"
    assert "england-and-wales" in problems[0].reason and "scotland" in problems[0].reason


def test_wrong_unit_inside_a_stage(tmp_path: Path) -> None:
    text = _bexley_as("units").replace(
        'escalation_request = { amount = 20, unit = "working_days"',
        'escalation_request = { amount = 20, unit = "weeks"',
        1,
    )
    _, problems = check_policy_file(_write(tmp_path, "units", text))
    assert [problem.field for problem in problems] == ["stages.0.escalation_request.unit"]


def test_id_must_match_the_file_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "bromley", BEXLEY)
    policy, problems = check_policy_file(path)
    assert policy is None
    assert [(problem.file, problem.field) for problem in problems] == [(path, "id")]
    assert "bromley" in problems[0].reason and "bexley" in problems[0].reason


def test_stage_one_needs_an_escalation_window_when_there_is_a_stage_two(tmp_path: Path) -> None:
    text = re.sub(r"(?m)^escalation_request = \{.*\}\n", "", _bexley_as("no-window"), count=1)
    assert "escalation_request =" not in text
    path = _write(tmp_path, "no-window", text)
    # The schema needs it (Policy.model_validate is what a file's data, defaults applied, must pass) ...
    data = tomllib.loads(text)
    with pytest.raises(ValidationError, match="stage 1 must define escalation_request"):
        Policy.model_validate(data)
    # ... and a file silent on it takes its nation's model value (issue 28): the Code's, for England.
    reading = read_policy_file(path)
    assert reading.policy is not None and not reading.problems
    code = load_policy_file(POLICIES_DIR / "complaint-handling-code.toml")
    assert reading.policy.stage(1).escalation_request == code.stage(1).escalation_request
    assert [applied.field for applied in reading.defaults] == ["stages.0.escalation_request"]


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = (
        _bexley_as("many")
        .replace('nation = "england-and-wales"', 'nation = "cornwall"', 1)
        .replace("months = 12", "months = 0", 1)
    )
    _, problems = check_policy_file(_write(tmp_path, "many", text))
    assert sorted(problem.field for problem in problems) == ["nation", "time_limit.months"]


def test_load_policies_names_the_one_bad_file(tmp_path: Path) -> None:
    for policy_id in SHIPPED:
        shutil.copy(POLICIES_DIR / f"{policy_id}.toml", tmp_path)
    bad = _write(tmp_path, "zz-bad", _bexley_as("zz-bad").replace("months = 12", "months = twelve", 1))
    with pytest.raises(PolicyFileError) as caught:
        load_policies(tmp_path)
    assert {problem.file for problem in caught.value.problems} == {bad}
    assert "zz-bad.toml" in str(caught.value)


def test_load_policies_on_a_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="does not exist"):
        load_policies(tmp_path / "nowhere")
    with pytest.raises(PolicyFileError, match="no policy files"):
        load_policies(tmp_path)


# A council that is not shipped, written as an operator would write it (docs/adding-a-council.md). The
# rules follow a typical English district council's two-stage procedure; they illustrate the format.
NEW_COUNCIL = """\
# Example District Council: Corporate Complaints Procedure.
id = "example-district"
name = "Example District Council"
source = "Corporate Complaints Procedure (illustrative)"
nation = "england-and-wales"
closure_days = [2026-12-29, 2026-12-30, 2026-12-31]
clock_stops_for_information = false
reminder_offsets_working_days = [2]

[time_limit]
months = 12

[ombudsman]
body = "lgsco"
signposting = "Local Government and Social Care Ombudsman: www.lgo.org.uk, 0300 061 0614."
early_referral_when_deadline_missed = true

[complainants]
anonymous_allowed = false
representative_consent = "written"

[[exclusions]]
code = "statutory-appeal"
label = "A decision with its own right of appeal"
signposting = "Use the appeal route explained in the decision letter."

[[stages]]
number = 1
name = "Stage 1"
investigated_by = "Service manager"
acknowledge = { amount = 3, from = "receipt" }
respond = { amount = 10, from = "receipt" }
extension = { officer_limit_working_days = 10 }
escalation_request = { amount = 1, unit = "calendar_months", from = "response" }

[[stages]]
number = 2
name = "Stage 2"
investigated_by = "Chief Executive's complaints team"
acknowledge = { amount = 3, from = "escalation_request" }
respond = { amount = 20, from = "escalation_request" }
extension = { officer_limit_working_days = 20 }
"""


def test_a_new_council_is_a_new_file_and_no_code(tmp_path: Path) -> None:
    for policy_id in SHIPPED:
        shutil.copy(POLICIES_DIR / f"{policy_id}.toml", tmp_path)
    _write(tmp_path, "example-district", NEW_COUNCIL)
    policies = load_policies(tmp_path)
    assert sorted(policies) == sorted((*SHIPPED, "example-district"))

    policy = policies["example-district"]
    assert policy.closure_days == (date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31))
    assert policy.timezone == "Europe/London"  # the default
    # received Wed 23 Dec 2026: 1 Thu 24; (25 hol, 26-27 wknd, 28 hol, 29-31 closed, 1 Jan hol, 2-3 wknd)
    # 2 Mon 4 Jan; 3 Tue 5 Jan. Respond 10: 4 Wed 6; 5 Thu 7; 6 Fri 8; 7 Mon 11; 8 Tue 12; 9 Wed 13;
    # 10 Thu 14 Jan. Extension + 10: Fri 15; Mon 18 - Fri 22 (6); Mon 25 - Thu 28 (10) -> Thu 28 Jan.
    # Escalation: one calendar month from a response on Sun 31 Jan 2027 -> Sun 28 Feb 2027.
    plan = plan_stage(policy, 1, date(2026, 12, 23), responded=date(2027, 1, 31))
    assert plan.acknowledge_by == date(2027, 1, 5)
    assert plan.respond_by == date(2027, 1, 14)
    assert plan.extension_limit_by == date(2027, 1, 28)
    assert plan.escalation_request_by == date(2027, 2, 28)
