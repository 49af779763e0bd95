"""Issue 28, point 5: what a policy file leaves unsaid comes from its nation's own model file, and `complaints
policy check` says which defaults it applied. Dates worked by hand: Saturday 28 November 2026; Monday
30 November is St Andrew's Day (Scotland only); Wednesday 17 March 2027 St Patrick's Day (Northern Ireland).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cli.main import main
from domain import deadlines
from domain.policy import Nation, Ombudsman
from domain.policy_files import read_policy_file


def _write(folder: Path, policy_id: str, text: str) -> Path:
    path = folder / f"{policy_id}.toml"
    path.write_text(text, encoding="utf-8")
    return path


SCOTTISH = """
id = "example-scottish"
name = "Example Council (Scotland)"
nation = "scotland"

[[stages]]
number = 1

[[stages]]
number = 2
# "We will respond to your investigation complaint within 20 working days" (the model's 20, said again).
respond = { amount = 20, unit = "working_days", from = "escalation_request" }
"""


def test_a_scottish_file_silent_on_most_things_runs_on_the_spso_model(tmp_path: Path) -> None:
    reading = read_policy_file(_write(tmp_path, "example-scottish", SCOTTISH))
    policy = reading.policy
    assert policy is not None, reading.problems
    assert policy.time_limit.months == 6
    assert policy.ombudsman.body is Ombudsman.SPSO
    assert policy.stage(1).name == "Frontline resolution"
    # Frontline resolution: 5 working days from Sat 28 Nov 2026 (day 0 Tue 1 Dec, 30 Nov is St Andrew's Day)
    # = Tue 8 Dec; the model's +5 working days at frontline = Tue 15 Dec.
    plan = deadlines.plan_stage(policy, 1, date(2026, 11, 28))
    assert (plan.respond_by, plan.extension_limit_by) == (date(2026, 12, 8), date(2026, 12, 15))
    # The Stage 2 request window is the model's: six months from the event or two from the response.
    window = policy.stage(1).escalation_request
    assert window is not None and window.later_of
    applied = [item.field for item in reading.defaults]
    assert applied == [
        "time_limit",
        "complainants",
        "ombudsman",
        "stages.0.name",
        "stages.0.investigated_by",
        "stages.0.acknowledge",
        "stages.0.respond",
        "stages.0.extension",
        "stages.0.escalation_request",
        "stages.1.name",
        "stages.1.investigated_by",
        "stages.1.acknowledge",
        "stages.1.extension",
    ]  # stages.1.respond is the file's own
    assert {item.model for item in reading.defaults} == {"scotland-model"}


def test_a_welsh_file_gets_no_extension_of_informal_resolution(tmp_path: Path) -> None:
    text = """
id = "example-welsh"
name = "Example County Borough"
nation = "wales"

[[stages]]
number = 1
respond = { amount = 10, unit = "working_days", from = "receipt" }
"""
    reading = read_policy_file(_write(tmp_path, "example-welsh", text))
    policy = reading.policy
    assert policy is not None, reading.problems
    assert policy.nation is Nation.WALES and policy.ombudsman.body is Ombudsman.PSOW
    # Received Thu 24 Dec 2026 (Wales: England's holidays, Fri 25 and Mon 28 Dec, Fri 1 Jan): 10 working
    # days = 29, 30, 31 Dec, 4 to 8 Jan, 11 and 12 Jan -> Tue 12 Jan 2027; no extension: the limit is the
    # same day.
    plan = deadlines.plan_stage(policy, 1, date(2026, 12, 24))
    assert (plan.respond_by, plan.extension_limit_by) == (date(2027, 1, 12), date(2027, 1, 12))
    # A one-stage file takes no escalation window.
    assert policy.stage(1).escalation_request is None
    assert "stages.0.escalation_request" not in [item.field for item in reading.defaults]


def test_a_northern_irish_stage_2_extension_comes_from_the_nipso_model(tmp_path: Path) -> None:
    text = (
        SCOTTISH.replace("example-scottish", "example-ni")
        .replace('"scotland"', '"northern-ireland"')
        .replace("Scotland", "Northern Ireland")
    )
    reading = read_policy_file(_write(tmp_path, "example-ni", text))
    policy = reading.policy
    assert policy is not None, reading.problems
    assert policy.ombudsman.body is Ombudsman.NIPSO and policy.time_limit.months == 6
    # Stage 2 requested on St Patrick's Day, Wed 17 Mar 2027: day 0 Thu 18 Mar; 18, 19, 22-25 Mar are days
    # 1-5, Good Friday 26 Mar and Easter Monday 29 Mar are holidays, 30 Mar to 19 Apr days 6-20: Mon 19 Apr.
    # The model's +10: 20-23, 26-30 Apr (9), Mon 3 May is a bank holiday: Tue 4 May.
    plan = deadlines.plan_stage(policy, 2, date(2027, 3, 17))
    assert (plan.respond_by, plan.extension_limit_by) == (date(2027, 4, 19), date(2027, 5, 4))


def test_an_english_council_names_its_own_ombudsman(tmp_path: Path) -> None:
    # England has two ombudsmen: the file must say which; its other silences come from the Code.
    text = SCOTTISH.replace("example-scottish", "example-english").replace(
        '"scotland"', '"england-and-wales"'
    )
    reading = read_policy_file(_write(tmp_path, "example-english", text))
    assert reading.policy is None
    assert [problem.field for problem in reading.problems] == ["ombudsman"]
    with_body = text.replace(
        "\n[[stages]]",
        '\n[ombudsman]\nbody = "lgsco"\nsignposting = "The LGSCO: www.lgo.org.uk."\n\n[[stages]]',
        1,
    )
    reading = read_policy_file(_write(tmp_path, "example-english", with_body))
    assert reading.policy is not None, reading.problems
    assert reading.policy.time_limit.months == 12
    assert {item.model for item in reading.defaults} == {"complaint-handling-code"}


def test_a_file_that_says_everything_takes_no_default(tmp_path: Path) -> None:
    for path in sorted((Path(__file__).resolve().parent.parent / "policies").glob("*.toml")):
        assert read_policy_file(path).defaults == [], path


def test_policy_check_says_which_defaults_it_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "example-scottish", SCOTTISH)
    assert main(["policy", "check", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{path}: OK (example-scottish: Example Council (Scotland); stage 1, stage 2)"
    assert (
        f"{path}: default time_limit = {{ months = 6, late_at_discretion = true }} (from scotland-model)"
        in lines
    )
    assert (
        f"{path}: default stages.0.extension = {{ officer_limit_working_days = 5,"
        ' agreement_needed_beyond_limit = true, note = "Model CHP: up to 10 working days in all at frontline'
        ' reso..." } (from scotland-model)'
    ) in lines
    # The Stage 2 respond window is the file's own: not reported.
    assert not any("stages.1.respond" in line for line in lines)
