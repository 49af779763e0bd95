"""Issue 28, point 7: `complaints policy explain FILE`, the policy in plain English with a worked example date
for each window. Dates worked by hand: Saturday 28 November 2026 (Scotland: Monday 30 November is St Andrew's
Day; Christmas Day Friday 25 and Boxing Day's substitute Monday 28 December); Northern Ireland: Wednesday
17 March 2027 is St Patrick's Day, Good Friday 26 March and Easter Monday 29 March 2027.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from cli.main import main
from domain.explain import Section, as_text, explain
from domain.policy import Policy

POLICIES = Path(__file__).resolve().parent.parent / "policies"


def _section(sections: list[Section], title: str) -> tuple[str, ...]:
    return next(section.lines for section in sections if section.title.startswith(title))


def test_the_scottish_model_explained(policies: dict[str, Policy]) -> None:
    sections = explain(policies["scotland-model"], date(2026, 11, 28))
    assert sections[0].title == "Scottish council (SPSO Model Complaints Handling Procedure)"
    assert "Bank holidays of Scotland; the council's own closure days: none." in sections[0].lines
    who = _section(sections, "Who may complain")
    assert who[0] == (
        "A complaint is taken up to 6 months after the matter arose or came to the complainant's notice"
        " (received on Saturday 28 November 2026: a matter from Thursday 28 May 2026 or later); an older one"
        " at the council's discretion."
    )
    stage1 = _section(sections, "Stage 1: Frontline resolution")
    # Day 0 Tue 1 Dec (30 Nov is St Andrew's Day); 5 working days = Tue 8 Dec; +5 = Tue 15 Dec.
    assert (
        "Answered within 5 working days from when the complaint was received. For a complaint received on"
        " Saturday 28 November 2026: by Tuesday 8 December 2026."
    ) in stage1
    assert (
        "The officer may extend the response date by up to 5 working days (for the same example: to Tuesday"
        " 15 December 2026); beyond that only with the complainant's agreement."
    ) in stage1
    assert (
        "After the response the complainant may ask for stage 2 within whichever is later of: 6 calendar"
        " months from when the matter arose or came to the complainant's notice; or 2 calendar months from"
        " when the complainant received the response (by e-mail the day it is sent; by post the 2nd working"
        " day after posting)."
    ) in stage1
    # The example matter arose two months before receipt, 28 Sep 2026: six months later is Sun 28 Mar 2027,
    # later than two months from the response received (8 Dec by e-mail -> 8 Feb; by post 10 Dec -> 10 Feb).
    assert (
        "A response sent on Tuesday 8 December 2026 for a matter that arose on Monday 28 September 2026: by"
        " e-mail, until Sunday 28 March 2027."
    ) in stage1
    assert "Who may ask: the complainant or their representative (on the resident pages), or a" in " ".join(
        stage1
    )
    # Stage 2: the example request a week after the response, Tue 15 Dec: 3 working days = Fri 18 Dec; 20
    # working days: 16 Dec to 24 Dec (7), 29 to 31 Dec (10), 1 and 4 Jan 2027 are holidays, 5 to 18 Jan (20).
    stage2 = _section(sections, "Stage 2: Investigation")
    assert (
        "Acknowledged within 3 working days from when the request for this stage was received. For a request"
        " received on Tuesday 15 December 2026: by Friday 18 December 2026."
    ) in stage2
    assert any(line.endswith("by Monday 18 January 2027.") for line in stage2)
    assert "The response date cannot be extended without the complainant's agreement." in stage2
    assert _section(sections, "The ombudsman")[0] == (
        "After the final response the complainant may go to the Scottish Public Services Ombudsman."
    )


def test_counting_from_the_day_after_receipt_is_explained() -> None:
    data = tomllib.loads((POLICIES / "northern-ireland-model.toml").read_text(encoding="utf-8"))
    data["stages"][0]["counting_starts"] = "day_after_receipt"
    sections = explain(Policy.model_validate(data), date(2027, 3, 17))
    stage1 = _section(sections, "Stage 1")
    assert stage1[1].startswith("Counting starts the day after receipt: the first working day after the day")
    # St Patrick's Day receipt: Thu 18 Mar is day 1, so 5 working days = Wed 24 Mar (not Thu 25 Mar).
    assert stage1[3].endswith(
        "For a complaint received on Wednesday 17 March 2027: by Wednesday 24 March 2027."
    )


def test_policy_explain_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "explain", str(POLICIES / "bexley.toml"), "--received", "2026-12-23"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("London Borough of Bexley\n------------------------\n")
    # 2 working days from Wed 23 Dec 2026: Thu 24 Dec (1), Christmas and Boxing Day's substitute, Tue 29 Dec.
    assert (
        "- Acknowledged within 2 working days from when the complaint was received. For a complaint received"
        " on Wednesday 23 December 2026: by Tuesday 29 December 2026.\n"
    ) in out
    # 20 working days from the day the resident got a response sent on Mon 18 Jan 2027: by e-mail Mon 15 Feb;
    # by post received Wed 20 Jan, so Wed 17 Feb.
    assert (
        "- A response sent on Monday 18 January 2027: by e-mail, until Monday 15 February 2027; by post,"
        " until Wednesday 17 February 2027.\n"
    ) in out
    assert out == as_text(explain(_bexley(), date(2026, 12, 23)))


def _bexley() -> Policy:
    data = tomllib.loads((POLICIES / "bexley.toml").read_text(encoding="utf-8"))
    return Policy.model_validate(data)


@pytest.mark.parametrize("policy_id", sorted(path.stem for path in POLICIES.glob("*.toml")))
def test_every_shipped_policy_can_be_explained(policies: dict[str, Policy], policy_id: str) -> None:
    sections = explain(policies[policy_id], date(2027, 7, 2))
    stages = [section for section in sections if section.title.startswith("Stage ")]
    assert len(stages) == len(policies[policy_id].stages)
    assert all(any(" 2027" in line for line in section.lines) for section in stages)
