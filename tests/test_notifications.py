"""Notification templates: every letter renders for every council, says what the policy promises, fails loudly
on a missing value, escapes HTML, and can be overridden per council. Pure rendering: no servers."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from api.resident.wording import next_stage
from core.settings import REPO_ROOT
from domain.policy import Policy
from domain.policy_files import load_policies
from notifications.render import (
    TEMPLATES_DIR,
    RenderError,
    UnknownTemplate,
    format_date,
    pounds,
    render,
    template_names,
    words,
)
from tests.shipped_policies import POLICIES_DIR, SHIPPED

POLICIES = load_policies(POLICIES_DIR)
# Where letters are queued: the apply steps, the timers, the letters module and the workflow itself.
LIFECYCLE_SOURCES = [
    *sorted((REPO_ROOT / "domain" / "steps").glob("*.py")),
    REPO_ROOT / "domain" / "timers.py",
    REPO_ROOT / "domain" / "letters.py",
    REPO_ROOT / "domain" / "lifecycle.py",
    REPO_ROOT / "workflows" / "complaint" / "workflow.py",
]

REFERENCE = "CMP-2026-000123"
SUMMARY = "My bins have not been collected for three weeks, although I reported it twice."
DESIRED = "Collect the bins and make sure the crew comes every week."
RESPOND_BY = date(2026, 12, 11)
RESPOND_BY_TEXT = "Friday 11 December 2026"
ESCALATE_BY = date(2027, 1, 8)
ESCALATE_BY_TEXT = "Friday 8 January 2027"


def _complainant(policy: Policy, stage: int = 1, **extra: Any) -> dict[str, Any]:
    """The context `ComplaintWorkflow._to_complainant` builds: the base keys plus the letter's own."""
    base = {
        "reference": REFERENCE,
        "stage": stage,
        "summary": SUMMARY,
        "desired_outcome": DESIRED,
        "policy": policy.name,
    }
    return base | extra


def _staff(stage: int = 1, **extra: Any) -> dict[str, Any]:
    return {"reference": REFERENCE, "stage": stage} | extra


def _response(policy: Policy, stage: int, escalation_request_by: date | None) -> dict[str, Any]:
    return _complainant(
        policy,
        stage,
        outcome="partially_upheld",
        findings="The crew missed your street on three collection days. Your reports were not passed on.",
        remedies=[
            {
                "kind": "apology",
                "description": "We apologise for the missed collections.",
                "amount_pence": None,
            },
            {
                "kind": "financial_redress",
                "description": "A payment for your time and trouble.",
                "amount_pence": 5000,
            },
        ],
        actions=[
            {
                "id": "route-check",
                "description": "Add your street to the crew's route check sheet",
                "owner": "Waste services manager",
                "due_on": "2026-12-18",
                "due_at": None,
                "completed_at": None,
                "completed_by": None,
                "overdue": False,
            }
        ],
        escalation_request_by=escalation_request_by,
        ombudsman=policy.ombudsman.signposting,
    )


def _made(policy: Policy) -> dict[str, Any]:
    """A complaint just made online for someone else, whose written consent is to come (issue 30)."""
    return {
        "service_area": "Housing repairs",
        "acknowledge_by": "2026-12-11",
        "respond_by": RESPOND_BY.isoformat(),
        "acknowledge_within": "5 working days",
        "respond_within": "15 working days",
        "why": f"under {policy.name}'s complaints policy, not counting weekends and bank holidays",
        "early_resolution": "",
        "for_someone_else": True,
        "complainant_name": "Ada Resident",
        "representative_name": "Ben Helper",
        "consent_pending": True,
        "complainant_has_email": False,
    }


def contexts(policy: Policy) -> dict[str, dict[str, Any]]:
    """A realistic context for every shipped template, as the workflow sends it (dates as `date` objects)."""
    signposting = policy.ombudsman.signposting
    exclusion = policy.exclusions[0] if policy.exclusions else None
    final = policy.last_stage
    return {
        # to the complainant
        "acknowledgement": _complainant(policy, respond_by=RESPOND_BY),
        "access_link": _complainant(
            policy,
            link=f"https://complaints.example.org/complaint/track?reference={REFERENCE}&code=abc123",
            once=True,
            expires_on=date(2027, 2, 18),
            next_stage=next_stage(policy, 1),
        ),
        "access_code": _complainant(
            policy,
            access_code="ABCD-EFGH-JKMN",
            track_url="https://complaints.example.org/complaint/track",
            expires_on=date(2027, 2, 18),
            by_post=True,
        ),
        "complaint_copy": _complainant(policy, **_made(policy), addressed_to="representative"),
        "consent_request": _complainant(policy, **_made(policy), addressed_to="complainant"),
        "consent_recorded": _complainant(policy, received_on=date(2026, 11, 20)),
        "stage2_acknowledgement": _complainant(policy, 2, respond_by=RESPOND_BY),
        "information_request": _complainant(
            policy,
            request="Photos of the bins on a collection day, and the dates you reported it.",
            clock_stopped=policy.clock_stops_for_information,
            respond_by=RESPOND_BY,
        ),
        "clock_restarted": _complainant(policy, respond_by=RESPOND_BY, working_days_lost=3),
        "extension": _complainant(
            policy,
            reason="We are waiting for the collection records from our contractor.",
            respond_by=RESPOND_BY,
            ombudsman=signposting,
        ),
        "extension_agreement_request": _complainant(
            policy,
            reason="The contractor's survey is booked for 8 January.",
            up_to=date(2027, 1, 29),
            respond_by=RESPOND_BY,
        ),
        "response": _response(policy, 1, ESCALATE_BY if final > 1 else None),
        "stage2_response": _response(policy, 2, None),
        # Issue 28: resolved at the early-resolution step before Stage 1.
        "early_resolution_response": _complainant(
            policy,
            1,
            step_name="Early resolution",
            outcome="upheld",
            findings="The missed collection was made the next morning.",
            ombudsman=signposting,
        ),
        "escalation_refused": _complainant(
            policy,
            2,
            reasons="Your request repeats the Stage 1 complaint and does not say why the response was wrong.",
            ombudsman=signposting,
        ),
        "decline": _complainant(
            policy,
            exclusion=exclusion.label if exclusion else "Not a complaint",
            reason="This is the first time you have told us about it.",
            signposting=exclusion.signposting if exclusion else "Report it to the service.",
            ombudsman=signposting,
        ),
        "withdrawal": _complainant(policy, reason="The bins have now been collected."),
        "closure": _complainant(policy, reason="escalation window closed", ombudsman=signposting),
        "contact_restriction": _complainant(
            policy,
            until=date(2027, 3, 31),
            review_on=date(2027, 2, 26),
            reason="Repeated abusive phone calls to staff.",
        ),
        "contact_restriction_lifted": _complainant(
            policy, reason="Contact has been respectful since the restriction began."
        ),
        "progress_update": _complainant(policy, respond_by=RESPOND_BY),
        "action_completed": _complainant(
            policy, description="Treat the damp and redecorate the bedroom", kind="remedy"
        ),
        "response_late": _complainant(policy, due=RESPOND_BY, ombudsman=signposting),
        "ombudsman_available": _complainant(policy, due=RESPOND_BY, ombudsman=signposting),
        # to staff
        "new_complaint": _staff(),
        "assigned": _staff(respond_by=RESPOND_BY),
        "reminder_acknowledge": _staff(due_on=date(2026, 11, 27)),
        "reminder_respond": _staff(due_on=RESPOND_BY),
        "new_information": _staff(summary="Photos of the overflowing bins, taken on 2 December.", daily=True),
        "messages_limited": _staff(allowed=20),
        "signal_refused": _staff(
            signal="escalation_request", channel="email", reason="the window to ask for Stage 2 closed"
        ),
        "escalation_requested": _staff(
            2,
            reasons="The bins are still missed every other week.",
            late=False,
            acknowledge_by=date(2026, 12, 8),
        ),
        "extension_agreement": _staff(agreed=True, up_to=date(2027, 1, 29)),
        "response_returned": _staff(returned_by="maya.manager", respond_by=RESPOND_BY),
        "action_overdue": _staff(
            action_id="route-check", due_on=date(2026, 12, 18), description="Check the collection route"
        ),
        # to the complaints manager
        "overdue_alert": _staff(what="response", due=RESPOND_BY),
        "response_for_approval": _staff(drafted_by="ian.investigator", respond_by=RESPOND_BY),
        "progress_update_due": _staff(respond_by=RESPOND_BY, every=10),
        "conflict_declared": _staff(
            declared_by="ian.investigator", was_assigned=True, declared_on=date(2026, 12, 1)
        ),
        # to each manager, about no single complaint (activities/digest.py)
        "overdue_digest": {
            "on": date(2026, 12, 7),
            "working_days": 2,
            "overdue": [
                {
                    "reference": REFERENCE,
                    "stage": 1,
                    "status": "acknowledged",
                    "service_area": "waste",
                    "assigned_to": "ian.investigator",
                    "what": "response",
                    "due": date(2026, 12, 4),
                }
            ],
            "due_soon": [],
        },
    }


def _as_stored(context: dict[str, Any]) -> dict[str, Any]:
    """The context as the outbox holds it: JSON, dates as ISO strings (as `store.complaints` writes it)."""
    stored: dict[str, Any] = json.loads(json.dumps(context, default=str))
    return stored


# ------------------------------------------------------------------------------------ every template


def test_every_shipped_template_has_a_test_context() -> None:
    assert set(contexts(POLICIES["bexley"])) == template_names()


@pytest.mark.parametrize("policy_id", SHIPPED)
@pytest.mark.parametrize("template", sorted(template_names()))
def test_every_template_renders_for_every_policy(policy_id: str, template: str) -> None:
    policy = POLICIES[policy_id]
    context = contexts(policy)[template]
    message = render(template, context, policy)
    assert message.subject and "\n" not in message.subject
    if template != "overdue_digest":  # the digest is about many complaints, not one
        assert REFERENCE in message.subject
    assert REFERENCE in message.text
    assert REFERENCE in message.html
    for leftover in ("{{", "{%", "None", "Undefined"):
        assert leftover not in message.text
    assert message.html.startswith("<!DOCTYPE html>")
    if "policy" in context:  # a letter to the complainant
        assert policy.name in message.text
    # The outbox stores JSON: ISO strings render exactly as date objects do.
    assert render(template, _as_stored(context), policy) == message


def test_the_test_covers_every_shipped_policy() -> None:
    assert set(SHIPPED) == set(POLICIES)


# ----------------------------------------------------------------------------------- what letters say


@pytest.mark.parametrize("template", ["acknowledgement", "stage2_acknowledgement"])
@pytest.mark.parametrize("policy_id", SHIPPED)
def test_acknowledgement_states_due_date_summary_and_outcome_wanted(policy_id: str, template: str) -> None:
    policy = POLICIES[policy_id]
    text = render(template, contexts(policy)[template], policy).text
    assert f"by {RESPOND_BY_TEXT}" in text
    assert SUMMARY in text
    assert DESIRED in text


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_the_access_e_mail_names_the_next_stage_as_the_policy_does(policy_id: str) -> None:
    """Issue 30: one name per stage, the policy's own ("Review", "Stage 2", "Investigation"), never "ask for
    a review"; at the last stage (or a link sent before the name was passed on) no next stage is offered."""
    policy = POLICIES[policy_id]
    context = contexts(policy)["access_link"]
    text = " ".join(render("access_link", context, policy).text.split())
    assert "ask for a review" not in text
    if policy.last_stage > 1:
        name = policy.stage(2).name
        assert f"after our response, ask us to take it to {name}, using this link" in text
    last = context | {"stage": policy.last_stage, "next_stage": next_stage(policy, policy.last_stage)}
    at_the_end = " ".join(render("access_link", last, policy).text.split())
    assert "send us more information, using this link" in at_the_end
    assert "take it to" not in at_the_end
    older = {key: value for key, value in context.items() if key != "next_stage"}
    before = " ".join(render("access_link", older, policy).text.split())
    assert "send us more information, using this link" in before


def test_acknowledgement_without_an_outcome_asks_for_one() -> None:
    policy = POLICIES["bexley"]
    text = render(
        "acknowledgement", contexts(policy)["acknowledgement"] | {"desired_outcome": ""}, policy
    ).text
    assert "did not tell us what outcome you want" in text


@pytest.mark.parametrize("policy_id", [pid for pid in SHIPPED if POLICIES[pid].last_stage == 2])
def test_stage1_response_gives_the_stage2_deadline_and_signposting(policy_id: str) -> None:
    policy = POLICIES[policy_id]
    text = render("response", contexts(policy)["response"], policy).text
    assert f"by {ESCALATE_BY_TEXT}" in text
    assert policy.stage(2).name in text
    assert policy.ombudsman.signposting in text
    assert "partially upheld" in text
    assert "A payment of £50: A payment for your time and trouble." in text
    assert "within 20 working days of this letter" in text  # how and when it is paid
    assert "Add your street to the crew's route check sheet" in text
    assert "Waste services manager" not in text  # who owns an action inside the council is staff business
    assert "Friday 18 December 2026" in text  # the action's due date
    assert "This is our final response" not in text
    html = render("response", contexts(policy)["response"], policy).html
    assert "<li>An apology: We apologise for the missed collections.</li>" in html


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_final_response_says_so_and_signposts_the_ombudsman(policy_id: str) -> None:
    policy = POLICIES[policy_id]
    message = render("stage2_response", contexts(policy)["stage2_response"], policy)
    assert "This is our final response" in message.text
    assert "final response" in message.subject
    assert policy.ombudsman.signposting in message.text
    assert "next stage" not in message.text


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_extension_gives_new_date_reason_and_ombudsman(policy_id: str) -> None:
    policy = POLICIES[policy_id]
    text = render("extension", contexts(policy)["extension"], policy).text
    assert f"by {RESPOND_BY_TEXT}" in text
    assert "waiting for the collection records from our contractor" in text
    assert policy.ombudsman.signposting in text


@pytest.mark.parametrize("clock_stopped", [True, False])
def test_information_request_says_whether_the_clock_stops(clock_stopped: bool) -> None:
    policy = POLICIES["bexley"]
    context = contexts(policy)["information_request"] | {"clock_stopped": clock_stopped}
    text = render("information_request", context, policy).text
    assert "Photos of the bins" in text
    assert ("will move later by the number of working days we wait" in text) is clock_stopped
    assert ("does not change the date we will respond by" in text) is not clock_stopped


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_refusal_decline_and_closure_signpost(policy_id: str) -> None:
    policy = POLICIES[policy_id]
    every = contexts(policy)
    refused = render("escalation_refused", every["escalation_refused"], policy).text
    assert "does not say why the response was wrong" in refused
    assert policy.ombudsman.signposting in refused
    declined = render("decline", every["decline"], policy).text
    assert every["decline"]["exclusion"] in declined
    assert every["decline"]["signposting"] in declined
    closed = render("closure", every["closure"], policy).text
    assert policy.ombudsman.signposting in closed
    assert "escalation window closed" not in closed  # the workflow's internal reason, put in words
    assert "The time to ask for the next stage" in closed
    officer = render("closure", every["closure"] | {"reason": "You told us the repair is done."}, policy)
    assert "You told us the repair is done." in officer.text


@pytest.mark.parametrize(
    ("what", "extra", "expected"),
    [
        ("acknowledgement", {}, "acknowledgement of complaint"),
        ("response", {}, "response to complaint"),
        ("extension_limit", {}, "may now go to the ombudsman"),
        ("action", {"action_id": "route-check"}, "Action route-check"),
    ],
)
def test_overdue_alert_says_what_is_late_and_when_it_was_due(
    what: str, extra: dict[str, Any], expected: str
) -> None:
    policy = POLICIES["westminster"]
    context = _staff(what=what, due=RESPOND_BY) | extra
    message = render("overdue_alert", context, policy)
    assert expected in message.text
    assert RESPOND_BY_TEXT in message.text
    assert REFERENCE in message.subject


def test_staff_reminders_give_the_due_date() -> None:
    policy = POLICIES["council-004"]
    every = contexts(policy)
    assert RESPOND_BY_TEXT in render("reminder_respond", every["reminder_respond"], policy).subject
    assert (
        "Friday 27 November 2026"
        in render("reminder_acknowledge", every["reminder_acknowledge"], policy).text
    )


# -------------------------------------------------------------------------------- strictness, escaping


@pytest.mark.parametrize(
    ("template", "missing"),
    [
        ("acknowledgement", "respond_by"),
        ("acknowledgement", "summary"),
        ("response", "escalation_request_by"),
        ("extension", "ombudsman"),
        ("reminder_respond", "due_on"),
        ("closure", "policy"),
    ],
)
def test_a_missing_context_key_is_an_error_not_a_blank(template: str, missing: str) -> None:
    policy = POLICIES["bexley"]
    context = dict(contexts(policy)[template])
    del context[missing]
    with pytest.raises(RenderError, match=rf"{template}.*{missing}"):
        render(template, context, policy)


def test_a_missing_key_inside_a_list_item_is_an_error() -> None:
    policy = POLICIES["bexley"]
    context = contexts(policy)["response"]
    context["actions"] = [{"id": "a", "description": "Fix it", "owner": "Waste team"}]  # no due_on
    with pytest.raises(RenderError, match="due_on"):
        render("response", context, policy)


def test_a_date_that_is_not_a_date_is_an_error() -> None:
    policy = POLICIES["bexley"]
    context = contexts(policy)["acknowledgement"] | {"respond_by": "next week"}
    with pytest.raises(RenderError, match="not a date"):
        render("acknowledgement", context, policy)


def test_html_is_escaped() -> None:
    policy = POLICIES["bexley"]
    summary = 'Bins <script>alert("x")</script> & more'
    message = render("acknowledgement", contexts(policy)["acknowledgement"] | {"summary": summary}, policy)
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert summary in message.text  # the plain text is plain


def test_unknown_template_is_a_clear_error() -> None:
    policy = POLICIES["bexley"]
    with pytest.raises(UnknownTemplate, match="'no_such_letter'.*known templates: .*acknowledgement"):
        render("no_such_letter", {}, policy)
    with pytest.raises(UnknownTemplate, match="invalid"):
        render("../render", {}, policy)


# ------------------------------------------------------------------------------------------- overrides


def test_a_council_override_is_used_for_that_council_only(tmp_path: Path) -> None:
    folder = tmp_path / "westminster"
    folder.mkdir()
    (folder / "acknowledgement.txt.j2").write_text(
        "Westminster wording. Reference {{ reference }}; we will reply by {{ respond_by|date }}.\n",
        encoding="utf-8",
    )
    (folder / "acknowledgement.html.j2").write_text("<p>Westminster: {{ summary }}</p>\n", encoding="utf-8")
    westminster, bexley = POLICIES["westminster"], POLICIES["bexley"]
    summary = "Noise <b>at night</b>"

    own = render(
        "acknowledgement",
        contexts(westminster)["acknowledgement"] | {"summary": summary},
        westminster,
        overrides_dir=tmp_path,
    )
    assert own.text == f"Westminster wording. Reference {REFERENCE}; we will reply by {RESPOND_BY_TEXT}.\n"
    assert own.html == "<p>Westminster: Noise &lt;b&gt;at night&lt;/b&gt;</p>\n"  # overrides are escaped too
    assert own.subject == f"We have received your complaint ({REFERENCE})"  # not overridden: the default

    other = render("acknowledgement", contexts(bexley)["acknowledgement"], bexley, overrides_dir=tmp_path)
    assert other == render("acknowledgement", contexts(bexley)["acknowledgement"], bexley)
    assert "Westminster wording" not in other.text
    # Westminster's other letters keep the defaults.
    extension = contexts(westminster)["extension"]
    assert render("extension", extension, westminster, overrides_dir=tmp_path) == render(
        "extension", extension, westminster
    )


def test_a_council_can_override_shared_pieces_and_subjects(tmp_path: Path) -> None:
    folder = tmp_path / "council-003"
    folder.mkdir()
    (folder / "_complainant.txt.j2").write_text(
        "Dear resident,\n\n{% block body %}{% endblock %}\n\n"
        "Yours, the Customer Feedback Team ({{ reference }})\n",
        encoding="utf-8",
    )
    (folder / "closure.subject.j2").write_text("Complaint {{ reference }} closed\n", encoding="utf-8")
    policy = POLICIES["council-003"]
    message = render("closure", contexts(policy)["closure"], policy, overrides_dir=tmp_path)
    assert message.text.startswith("Dear resident,\n\nWe have now closed your complaint.")
    assert "Customer Feedback Team" in message.text
    assert message.subject == f"Complaint {REFERENCE} closed"


# ------------------------------------------------------------------------------------ filters, dates


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_iso_strings_and_dates_render_the_same(policy_id: str) -> None:
    policy = POLICIES[policy_id]
    as_dates = contexts(policy)["response"]
    as_text = as_dates | {"escalation_request_by": "2027-01-08"}
    assert render("response", as_text, policy) == render("response", as_dates, policy)


def test_date_filter() -> None:
    assert format_date(date(2026, 12, 11)) == "Friday 11 December 2026"
    assert format_date("2026-12-11") == "Friday 11 December 2026"
    assert format_date("2027-01-01") == "Friday 1 January 2027"
    # An instant is the council's local date: 23:30 UTC on a summer evening is already the next day.
    summer_evening = datetime(2026, 7, 9, 23, 30, tzinfo=UTC)
    assert format_date(summer_evening) == "Friday 10 July 2026"
    assert format_date(summer_evening.isoformat()) == "Friday 10 July 2026"
    with pytest.raises(ValueError, match="not a date"):
        format_date(None)


def test_outcome_and_money_filters() -> None:
    from domain.models import Outcome

    assert words("partially_upheld") == "partially upheld"
    assert words(Outcome.NOT_UPHELD) == "not upheld"
    assert pounds(5000) == "£50"
    assert pounds(1250) == "£12.50"
    assert pounds(123456) == "£1,234.56"


# -------------------------------------------------------------------------- the workflow's templates


def _workflow_templates(source: str) -> set[str]:
    """Every template name the lifecycle can queue, read from the source of its steps, timers and workflow:
    the third argument of `to_complainant(state, policy, template, ...)`, the second of
    `staff_notice(state, template, recipient, ...)`."""
    names: set[str] = set()
    for function, position in (("to_complainant", 2), ("staff_notice", 1)):
        for arguments in re.findall(rf"(?<!def ){function}\(((?:[^()]|\([^()]*\))*)\)", source):
            template = arguments.split(",")[position].strip()
            choice = re.fullmatch(r'"(\w+)" if .+ else "(\w+)"', template)
            literal = re.fullmatch(r'"(\w+)"', template)
            if choice:
                names |= set(choice.groups())
            elif template == 'f"reminder_{timer.name}"':
                names |= {f"reminder_{name}" for name in re.findall(r'_reminders\(\s*"(\w+)"', source)}
            else:
                # A call whose template is not a literal (nor one of the forms above) would escape this test.
                assert literal, f"template name this test cannot read: {template}"
                names.add(literal.group(1))
    names |= set(re.findall(r'template="(\w+)"', source))  # manager_alert's overdue_alert
    return names


def test_every_notification_the_workflow_sends_has_a_default_template() -> None:
    used = set().union(*(_workflow_templates(path.read_text(encoding="utf-8")) for path in LIFECYCLE_SOURCES))
    # The parse itself is checked: these are known to be sent.
    assert {
        "acknowledgement",
        "stage2_acknowledgement",
        "response",
        "stage2_response",
        "extension",
        "new_complaint",
        "reminder_acknowledge",
        "reminder_respond",
        "overdue_alert",
        "signal_refused",
        "action_overdue",
    } <= used
    shipped = template_names()
    missing = sorted(used - shipped)
    assert not missing, f"no default template for {missing}: add notifications/templates/<name>.txt.j2"
    for name in used:
        assert (TEMPLATES_DIR / f"{name}.subject.j2").is_file(), f"no subject for {name}"


def test_the_new_details_reach_the_letters() -> None:
    policy = load_policies(POLICIES_DIR)["bexley"]
    every = contexts(policy)
    restarted = render("clock_restarted", every["clock_restarted"], policy).text
    assert "3 working days" in restarted and "Friday 11 December 2026" in restarted
    agreed = render("extension_agreement", every["extension_agreement"], policy).text
    assert "Friday 29 January 2027" in agreed
    refused = render("extension_agreement", every["extension_agreement"] | {"agreed": False}, policy).text
    assert "has not agreed" in refused
    assert "Check the collection route" in render("action_overdue", every["action_overdue"], policy).text
    assert (
        "Photos of the overflowing bins" in render("new_information", every["new_information"], policy).text
    )
    assert (
        "Friday 26 February 2027" in render("contact_restriction", every["contact_restriction"], policy).text
    )
    assert policy.ombudsman.signposting[:40] in render("decline", every["decline"], policy).text


# Letters recorded by the workflow before a template gained a detail, and sent after the deploy.
OLDER_CONTEXT_KEYS = {
    "assigned": ["respond_by"],
    "new_information": ["summary"],
    "escalation_requested": ["reasons", "late", "acknowledge_by"],
    "extension_agreement": ["agreed", "up_to"],
    "action_overdue": ["description"],
    "contact_restriction": ["review_on"],
    "decline": ["ombudsman"],
    "information_request": ["respond_by"],
}


@pytest.mark.parametrize("template", sorted(OLDER_CONTEXT_KEYS))
def test_letters_recorded_before_a_template_changed_still_render(template: str) -> None:
    policy = load_policies(POLICIES_DIR)["bexley"]
    older = {
        key: value
        for key, value in contexts(policy)[template].items()
        if key not in OLDER_CONTEXT_KEYS[template]
    }
    message = render(template, older, policy)
    assert REFERENCE in message.text


def test_casework_letters_say_what_the_resident_needs_to_know() -> None:
    """Learning, progress updates, completed actions and contact restrictions, as the resident reads them."""
    policy = POLICIES["barking-dagenham"]
    every = contexts(policy)
    acknowledged = render(
        "acknowledgement", every["acknowledgement"] | {"updates_every_working_days": 10}, policy
    ).text
    assert "at least every 10 working days" in acknowledged
    assert "at least every" not in render("acknowledgement", every["acknowledgement"], policy).text
    improvements = [{"description": "Triage every damp report as urgent", "due_on": date(2027, 3, 1)}]
    response = render("response", every["response"] | {"improvements": improvements}, policy).text
    assert "What we will change" in response and "Triage every damp report as urgent" in response
    assert "Monday 1 March 2027" in response
    assert "What we will change" not in render("response", every["response"], policy).text
    done = render("action_completed", every["action_completed"] | {"kind": "improvement"}, policy)
    assert "change we would make" in done.text and "Treat the damp" in done.text
    assert "A change we promised is done" in done.subject
    restricted = render(
        "contact_restriction", every["contact_restriction"] | {"channels": ["messages", "evidence"]}, policy
    ).text
    assert "cannot send us messages" in restricted and "cannot upload files" in restricted
    assert "new complaint" not in restricted and "all your complaints" in restricted
    assert "ask for the next stage" in restricted
    review = render(
        "overdue_alert",
        every["overdue_alert"]
        | {"what": "contact_restriction_review", "due": date(2027, 2, 26), "until": date(2027, 3, 31)},
        policy,
    )
    assert review.subject.startswith("Review due: contact restriction")
    assert "Friday 26 February 2027" in review.text and "Wednesday 31 March 2027" in review.text
    assert "every 10 working days" in render("progress_update_due", every["progress_update_due"], policy).text
