"""Issue 28: what six more real councils needed of the policy format, each with hand-worked dates.

Bank holidays used (from the published lists): Scotland Mon 30 Nov 2026 (St Andrew's Day), Fri 1 and
Mon 4 Jan 2027 (2 January's substitute), Fri 26 Mar 2027 (Good Friday; no Easter Monday); Northern Ireland
Wed 17 Mar 2027 (St Patrick's Day), Mon 12 Jul 2027 (Battle of the Boyne); England and Wales Fri 25 and
Mon 28 Dec 2026. 28 November 2026 is a Saturday; 9 July 2027 a Friday.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from domain import commands as cmd
from domain import deadlines
from domain.models import Outcome
from domain.policy import Policy, SentBy
from tests.direct_effects import new_complaint, run
from tests.factories import INVESTIGATOR, LONDON, OFFICER, intake

POLICIES = Path(__file__).resolve().parent.parent / "policies"


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def raw(policy_id: str) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((POLICIES / f"{policy_id}.toml").read_text(encoding="utf-8"))
    return data


# --- 1. A window that is the later (or earlier) of several limbs ---------------------------------------


# "within six months of the event ... or within two months of receiving your Stage 1 response (if this is
# later)": both model files now say both limbs.
@pytest.mark.parametrize(
    ("policy_id", "responded", "sent_by", "matter_arose", "last_day"),
    [
        # Scotland: posted Fri 27 Nov 2026; Mon 30 Nov is St Andrew's Day, so received Wed 2 Dec (2nd working
        # day); + 2 months = Tue 2 Feb 2027. The event on 1 Sep 2026 + 6 months = Mon 1 Mar 2027: later.
        ("scotland-model", date(2026, 11, 27), SentBy.POST, date(2026, 9, 1), date(2027, 3, 1)),
        # The event on 1 May 2026 + 6 months = 1 Nov 2026, long before 2 Feb 2027: the response limb wins.
        ("scotland-model", date(2026, 11, 27), SentBy.POST, date(2026, 5, 1), date(2027, 2, 2)),
        # By e-mail the same Friday: received that day, + 2 months = Wed 27 Jan 2027.
        ("scotland-model", date(2026, 11, 27), SentBy.EMAIL, date(2026, 5, 1), date(2027, 1, 27)),
        # Northern Ireland: posted Fri 9 Jul 2027; Mon 12 Jul is the Boyne holiday, so received Wed 14 Jul;
        # + 2 months = Tue 14 Sep 2027. Event 10 Jan 2027 + 6 months = 10 Jul 2027: earlier, so 14 Sep.
        ("northern-ireland-model", date(2027, 7, 9), SentBy.POST, date(2027, 1, 10), date(2027, 9, 14)),
        # Event on St Patrick's Day, 17 Mar 2027 + 6 months = Fri 17 Sep 2027: later than 14 Sep.
        ("northern-ireland-model", date(2027, 7, 9), SentBy.POST, date(2027, 3, 17), date(2027, 9, 17)),
    ],
)
def test_the_later_of_six_months_from_the_event_and_two_from_the_response(
    policies: dict[str, Policy],
    policy_id: str,
    responded: date,
    sent_by: SentBy,
    matter_arose: date,
    last_day: date,
) -> None:
    policy = policies[policy_id]
    received = date(2026, 10, 1)
    assert deadlines.escalation_request_by(policy, 1, responded, sent_by, received, matter_arose) == last_day


def test_an_unrecorded_event_is_taken_as_the_receipt(policies: dict[str, Policy]) -> None:
    # Received Mon 5 Jul 2027 (NI), no date for the event: 6 months from the receipt = Wed 5 Jan 2028, later
    # than 2 months from the response received on Wed 14 Jul (Tue 14 Sep): the resident is never cut short.
    policy = policies["northern-ireland-model"]
    assert deadlines.escalation_request_by(
        policy, 1, date(2027, 7, 9), SentBy.POST, date(2027, 7, 5), None
    ) == date(2028, 1, 5)


async def test_the_workflow_step_gives_the_resident_the_later_limb(policies: dict[str, Policy]) -> None:
    # Scotland, complaint received Mon 2 Nov 2026 about an event of 1 Sep 2026; frontline response by e-mail
    # on Thu 5 Nov: 2 months = 5 Jan 2027; 6 months from the event = Mon 1 Mar 2027: the later.
    policy = policies["scotland-model"]
    ctx, effects = await new_complaint(
        policy, intake(policy.id, at(date(2026, 11, 2)), matter_arose_on=date(2026, 9, 1))
    )
    await run(ctx, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    effects.clock = at(date(2026, 11, 5), 15)
    response = cmd.Respond(actor=INVESTIGATOR, outcome=Outcome.NOT_UPHELD, findings="No fault")
    await run(ctx, "respond", response)
    window = ctx.state.current.escalation_request_by
    assert window is not None and window.on == date(2027, 3, 1)


def test_the_earlier_of_two_limbs(policies: dict[str, Policy]) -> None:
    # "within 20 working days of our response, and in any case within 12 months of the matter": Bexley's
    # 20 working days from Thu 24 Dec 2026 = Tue 26 Jan 2027 (25, 28 Dec and 1 Jan are holidays); an event
    # of 15 Jan 2026 + 12 months = Fri 15 Jan 2027: the earlier.
    data = raw("bexley")
    data["stages"][0]["escalation_request"] = {
        "earlier_of": [
            {"amount": 20, "unit": "working_days", "from": "response"},
            {"amount": 12, "unit": "calendar_months", "from": "matter_arose"},
        ]
    }
    policy = Policy.model_validate(data)
    responded = date(2026, 12, 24)
    by = deadlines.escalation_request_by
    assert by(policy, 1, responded, SentBy.EMAIL, responded, date(2026, 1, 15)) == date(2027, 1, 15)
    assert by(policy, 1, responded, SentBy.EMAIL, responded, date(2026, 3, 1)) == date(2027, 1, 26)


@pytest.mark.parametrize(
    ("stage_field", "window", "message"),
    [
        (
            "escalation_request",
            {"amount": 2, "later_of": [{"amount": 6, "from": "response"}, {"amount": 2, "from": "response"}]},
            "amount: put amount, unit and from inside each limb",
        ),
        ("escalation_request", {"later_of": [{"amount": 6, "from": "response"}]}, "at least two limbs"),
        (
            "escalation_request",
            {
                "later_of": [
                    {"amount": 6, "unit": "calendar_months", "from": "matter_arose"},
                    {"amount": 2, "unit": "calendar_months", "from": "receipt"},
                ]
            },
            "at least one limb must count from the response",
        ),
        (
            "respond",
            {"later_of": [{"amount": 10, "from": "receipt"}, {"amount": 5, "from": "acknowledgement"}]},
            "respond: later_of / earlier_of is for escalation_request windows only",
        ),
        ("respond", {"amount": 10, "from": "matter_arose"}, "respond.from cannot be 'matter_arose'"),
        (
            "escalation_request",
            {"amount": 6, "unit": "calendar_months", "from": "matter_arose"},
            "escalation_request.from must be one of 'response', 'response_received'",
        ),
    ],
)
def test_a_window_of_limbs_is_checked(stage_field: str, window: dict[str, Any], message: str) -> None:
    data = raw("bexley")
    data["stages"][0][stage_field] = window
    with pytest.raises(ValidationError, match=message):
        Policy.model_validate(data)


# --- 3. When counting starts --------------------------------------------------------------------------


def _counting_from_the_day_after(policy_id: str) -> Policy:
    data = raw(policy_id)
    data["stages"][0]["counting_starts"] = "day_after_receipt"
    return Policy.model_validate(data)


@pytest.mark.parametrize(
    ("policy_id", "received", "default_by", "day_after_by"),
    [
        # Scotland, Sat 28 Nov 2026; Mon 30 Nov is St Andrew's Day. By default day 0 is Tue 1 Dec and the
        # 5th working day Tue 8 Dec; from the day after receipt Tue 1 Dec is day 1 and Mon 7 Dec day 5.
        ("scotland-model", date(2026, 11, 28), date(2026, 12, 8), date(2026, 12, 7)),
        # A working-day receipt, Wed 2 Dec: both count Thu 3 Dec as day 1, so Wed 9 Dec.
        ("scotland-model", date(2026, 12, 2), date(2026, 12, 9), date(2026, 12, 9)),
        # Northern Ireland, St Patrick's Day Wed 17 Mar 2027: day 0 Thu 18 Mar -> Thu 25 Mar by default;
        # day 1 Thu 18 Mar -> Wed 24 Mar from the day after.
        ("northern-ireland-model", date(2027, 3, 17), date(2027, 3, 25), date(2027, 3, 24)),
        # England, Christmas Day 2026 (Fri; Mon 28 Dec is Boxing Day's substitute): bexley's 15 working days
        # from day 0 Tue 29 Dec run to Wed 20 Jan 2027; from the day after, Tue 29 Dec is day 1: Tue 19 Jan.
        ("bexley", date(2026, 12, 25), date(2027, 1, 20), date(2027, 1, 19)),
    ],
)
def test_counting_from_the_day_after_receipt(
    policies: dict[str, Policy], policy_id: str, received: date, default_by: date, day_after_by: date
) -> None:
    default = deadlines.plan_stage(policies[policy_id], 1, received)
    day_after = deadlines.plan_stage(_counting_from_the_day_after(policy_id), 1, received)
    assert default.respond_by == default_by
    assert day_after.respond_by == day_after_by
    # The stage's day 0 is the day of receipt itself: days taken are counted from it in the reports.
    assert day_after.day_zero == received


def test_counting_starts_is_per_stage(policies: dict[str, Policy]) -> None:
    # Only Stage 1 counts from the day after: a Stage 2 request on Sat 28 Nov 2026 (Scotland) keeps day 0
    # Tue 1 Dec; 2-24 Dec are working days 1 to 17; Fri 25 Dec and Mon 28 Dec (Boxing Day's substitute) are
    # holidays; 29, 30, 31 Dec are days 18 to 20: Thu 31 Dec 2026.
    policy = _counting_from_the_day_after("scotland-model")
    assert policy.stage(2).counting_starts == "receipt"
    assert deadlines.plan_stage(policy, 2, date(2026, 11, 28)).respond_by == date(2026, 12, 31)


# --- 6. A field where it has no effect is refused, naming the right place -------------------------------


def _problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The (field, reason) pairs `complaints policy check` prints for this file's data."""
    try:
        Policy.model_validate(data)
    except ValidationError as exc:
        return [(".".join(str(part) for part in error["loc"]), error["msg"]) for error in exc.errors()]
    return []


def test_reasons_required_on_the_last_stage_names_the_stage_it_belongs_on() -> None:
    data = raw("bexley")
    data["stages"][1]["escalation_reasons_required"] = True
    assert _problems(data) == [
        (
            "stages",
            "Value error, stage 2: escalation_reasons_required has no effect on the last stage (there is no"
            " next stage to ask for); it belongs on stage 1, the stage the complainant asks to move on from",
        )
    ]
    # Where it belongs, it is taken and used (the escalation rule asks for reasons).
    data["stages"][1].pop("escalation_reasons_required")
    data["stages"][0]["escalation_reasons_required"] = True
    assert _problems(data) == []


def test_late_escalation_on_a_one_stage_policy() -> None:
    data = raw("bexley")
    data["stages"] = data["stages"][:1]
    data["stages"][0].pop("escalation_request")
    data["stages"][0]["late_escalation_at_discretion"] = False
    ((field, reason),) = _problems(data)
    assert field == "stages"
    assert "late_escalation_at_discretion has no effect on the last stage" in reason
    assert "a one-stage policy has nothing to escalate to" in reason


def test_late_acknowledgement_only_where_the_response_counts_from_it() -> None:
    data = raw("bexley")  # Bexley's Stage 1 response counts from receipt
    data["stages"][0]["late_acknowledgement_moves_response"] = True
    ((field, reason),) = _problems(data)
    assert field == "stages.0"
    assert (
        'only to a respond window counted from the acknowledgement (respond = { ..., from = "acknowledgement"'
        in (reason)
    )


def test_progress_updates_from_without_the_stages_cadence() -> None:
    data = raw("barking-dagenham")  # Stage 1: every 5 working days, from the first extension
    assert _problems(data) == []
    data["stages"][0].pop("update_every_working_days")
    ((field, reason),) = _problems(data)
    assert field == "stages.0"
    assert "progress_updates_from has no effect here" in reason
    assert "set update_every_working_days on the same stage" in reason
    # How updates are made still counts without the policy's cadence: it applies to an agreed one too.
    data["stages"][0].pop("progress_updates_from")
    assert data["stages"][0]["progress_update_by"] == "reminder"
    data["stages"][0]["progress_update_by"] = "letter"
    assert _problems(data) == []


def test_representative_rules_without_representatives() -> None:
    data = raw("bexley")
    data["complainants"]["representatives_allowed"] = False
    data["complainants"]["representative_consent"] = "verbal"
    assert _problems(data) == [
        (
            "complainants",
            "Value error, representative_consent has no effect with representatives_allowed = false:"
            " remove it, or allow representatives",
        )
    ]


def test_response_receipt_without_a_window_that_uses_it() -> None:
    data = raw("council-004")
    assert all(
        stage.get("escalation_request", {}).get("from") != "response_received" for stage in data["stages"]
    )
    data["response_receipt"] = {"post": 3}
    ((field, reason),) = _problems(data)
    assert (
        'response_receipt has no effect: no escalation_request window counts from "response_received"'
        in reason
    )


def test_a_policy_copied_whole_with_its_defaults_still_loads(policies: dict[str, Policy]) -> None:
    # What the API shows and the workflow freezes is every field, defaults included: it must load again.
    for policy in policies.values():
        assert Policy.model_validate(policy.model_dump(by_alias=True)) == policy
        assert Policy.model_validate_json(policy.model_dump_json()) == policy


# --- 2. An early-resolution step before Stage 1 (the policy and its dates) --------------------------------


def _three_tier(policy_id: str = "northern-ireland-model", **step: Any) -> Policy:
    data = raw(policy_id)
    data["early_resolution"] = {
        "name": "Early resolution",
        "handled_by": "The service",
        "resolve": {"amount": 5, "unit": "working_days", "from": "receipt"},
        **step,
    }
    return Policy.model_validate(data)


def test_early_resolution_has_its_own_deadline_and_stage_1_counts_from_its_end() -> None:
    policy = _three_tier()
    # Northern Ireland, received on St Patrick's Day, Wed 17 Mar 2027: day 0 Thu 18 Mar; 5 working days
    # = Thu 25 Mar.
    assert deadlines.early_resolution_by(policy, date(2027, 3, 17)) == date(2027, 3, 25)
    # Not resolved: the officer decides on Thu 25 Mar that it does not fit; Stage 1's 5 working days count
    # from that day: Good Friday 26 Mar and Easter Monday 29 Mar are holidays, so Mon 5 Apr.
    assert deadlines.plan_stage(policy, 1, date(2027, 3, 25)).respond_by == date(2027, 4, 5)
    # Counting from the day after receipt: Thu 18 Mar is day 1, so Wed 24 Mar.
    later = _three_tier(counting_starts="day_after_receipt")
    assert deadlines.early_resolution_by(later, date(2027, 3, 17)) == date(2027, 3, 24)
    # A policy without the step has no such date, and every shipped file is such a policy.
    assert deadlines.early_resolution_by(raw_policy("northern-ireland-model"), date(2027, 3, 17)) is None


def raw_policy(policy_id: str) -> Policy:
    return Policy.model_validate(raw(policy_id))


@pytest.mark.parametrize(
    ("resolve", "message"),
    [
        (
            {"amount": 5, "unit": "calendar_days", "from": "receipt"},
            'resolve must be in working_days from "receipt"',
        ),
        ({"amount": 5, "from": "acknowledgement"}, 'resolve must be in working_days from "receipt"'),
        ({"amount": 0}, "resolve.amount must be at least 1"),
    ],
)
def test_the_early_resolution_window_is_checked(resolve: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _three_tier(resolve=resolve)


def test_early_resolution_is_explained() -> None:
    from domain.explain import explain

    sections = explain(_three_tier(), date(2027, 3, 17))
    early = next(section for section in sections if section.title == "Before Stage 1: Early resolution")
    assert early.lines[1] == (
        "Resolved within 5 working days from when the complaint was received. For a complaint received on"
        " Wednesday 17 March 2027: by Thursday 25 March 2027."
    )
    assert early.lines[3].endswith(
        "decided on Thursday 25 March 2027, the Stage 1 response is due by Monday 5 April 2027."
    )


def test_the_deadlines_command_shows_the_early_resolution_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    text = (POLICIES / "northern-ireland-model.toml").read_text(encoding="utf-8")
    text = text.replace('id = "northern-ireland-model"', 'id = "ni-three-tier"', 1)
    text += '\n[early_resolution]\nhandled_by = "The service"\nresolve = { amount = 5 }\n'
    path = tmp_path / "ni-three-tier.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["deadlines", str(path), "2027-03-17"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # St Patrick's Day receipt: day 0 Thu 18 Mar, 5 working days = Thu 25 Mar.
    assert "early_resolution_by: 2027-03-25 (Stage 1's dates below count from the receipt given)" in lines
