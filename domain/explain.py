"""A policy in plain English, with a worked example date for each window (issue 28, point 7).

For a council's complaints manager to check a policy file against their published procedure without reading
TOML: each stage, each window and what it counts from, the limits, who may complain and escalate, the
exclusions and the ombudsman. `complaints policy explain FILE` prints it; the staff console shows the same
sections on the council's page (`explain` returns them as data, `as_text` as plain text).

Pure: the example dates come from the same functions that plan a complaint's deadlines (domain.deadlines).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain import deadlines
from domain.actions import ACTIONS
from domain.calendar import add_months
from domain.policy import (
    ConsentNeeded,
    CountingStarts,
    CountsFrom,
    Nation,
    Ombudsman,
    Policy,
    SentBy,
    Stage,
    Unit,
    Window,
)

_NATIONS = {
    Nation.ENGLAND_AND_WALES: "England and Wales",
    Nation.WALES: "Wales (England and Wales's bank holidays)",
    Nation.SCOTLAND: "Scotland",
    Nation.NORTHERN_IRELAND: "Northern Ireland",
}
_OMBUDSMEN = {
    Ombudsman.LGSCO: "the Local Government and Social Care Ombudsman",
    Ombudsman.HOUSING_OMBUDSMAN: "the Housing Ombudsman",
    Ombudsman.SPSO: "the Scottish Public Services Ombudsman",
    Ombudsman.PSOW: "the Public Services Ombudsman for Wales",
    Ombudsman.NIPSO: "the Northern Ireland Public Services Ombudsman",
}
_ROLES = {
    "complaints_officer": "a complaints officer",
    "manager": "a manager",
    "reviewer": "a reviewer",
    "investigator": "an investigator",
}


@dataclass(frozen=True)
class Section:
    """One part of the explanation: a heading and its sentences."""

    title: str
    lines: tuple[str, ...]


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def period(window: Window) -> str:
    """'5 working days', '1 calendar month', '28 calendar days'."""
    unit = {
        Unit.WORKING_DAYS: "working day",
        Unit.CALENDAR_DAYS: "calendar day",
        Unit.CALENDAR_MONTHS: "calendar month",
    }[window.unit]
    return f"{window.amount} {unit}{'' if window.amount == 1 else 's'}"


def anchor(policy: Policy, stage: Stage, counts_from: CountsFrom) -> str:
    if counts_from in (CountsFrom.RECEIPT, CountsFrom.ESCALATION_REQUEST):
        return (
            "the complaint was received" if stage.number == 1 else "the request for this stage was received"
        )
    if counts_from is CountsFrom.ACKNOWLEDGEMENT:
        return "it was acknowledged"
    if counts_from is CountsFrom.RESPONSE:
        return "the response was sent"
    if counts_from is CountsFrom.RESPONSE_RECEIVED:
        post = policy.response_receipt.working_days(SentBy.POST)
        return (
            "the complainant received the response (by e-mail the day it is sent; by post the"
            f" {_nth(post)} working day after posting)"
        )
    return "the matter arose or came to the complainant's notice"


def _nth(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _limbs(policy: Policy, stage: Stage, window: Window) -> str:
    parts = [f"{period(limb)} from when {anchor(policy, stage, limb.counts_from)}" for limb in window.limbs]
    if not window.is_combined:
        return parts[0]
    return f"whichever is {'later' if window.takes_later else 'earlier'} of: " + "; or ".join(parts)


def _counting(stage: Stage) -> str:
    if stage.counting_starts is CountingStarts.DAY_AFTER_RECEIPT:
        return (
            "Counting starts the day after receipt: the first working day after the day of receipt is day 1"
            " (a complaint received on a Saturday has the Monday as day 1)."
        )
    return (
        "The day of receipt is day 0 (a receipt on a weekend, bank holiday or closure day counts from the"
        " next working day); the Nth working day after it is the last day."
    )


def _stage(policy: Policy, stage: Stage, received: date) -> tuple[Section, date | None]:
    """A stage's section, and (for a stage followed by another) the example's next-stage request date."""
    plan = deadlines.plan_stage(policy, stage.number, received)
    lines = [f"Answered by: {stage.investigated_by}.", _counting(stage)]
    example = f"For a {'complaint' if stage.number == 1 else 'request'} received on {long_date(received)}"
    lines.append(
        f"Acknowledged within {_limbs(policy, stage, stage.acknowledge)}. {example}: by"
        f" {long_date(plan.acknowledge_by)}."
    )
    respond_example = f"{example}: by {long_date(plan.respond_by)}"
    if stage.respond.counts_from is CountsFrom.ACKNOWLEDGEMENT:
        respond_example += " (if acknowledged on its last day"
        respond_example += (
            "; a later acknowledgement moves it)"
            if stage.late_acknowledgement_moves_response
            else "; a late acknowledgement gains no time)"
        )
    lines.append(f"Answered within {_limbs(policy, stage, stage.respond)}. {respond_example}.")
    extension = stage.extension
    if plan.extension_limit_by is None:
        lines.append("The response date may be extended; the policy sets no limit and needs no agreement.")
    elif extension.officer_limit_working_days == 0:
        lines.append("The response date cannot be extended without the complainant's agreement.")
    else:
        lines.append(
            f"The officer may extend the response date by up to {extension.officer_limit_working_days}"
            f" working days (for the same example: to {long_date(plan.extension_limit_by)}); beyond that"
            " only with the complainant's agreement."
        )
    if extension.note:
        lines.append(f"The policy's words on extensions: {extension.note}")
    if stage.update_every_working_days:
        how = (
            "a progress letter is sent"
            if stage.progress_update_by.value == "letter"
            else "the officer is reminded"
        )
        since = (
            "the acknowledgement"
            if stage.progress_updates_from.value == "acknowledgement"
            else "an extension"
        )
        lines.append(
            f"Progress updates: every {stage.update_every_working_days} working days from {since}, {how}."
        )
    next_received: date | None = None
    window = stage.escalation_request
    if window is not None:
        nxt = stage.number + 1
        lines.append(
            f"After the response the complainant may ask for stage {nxt} within"
            f" {_limbs(policy, stage, window)}."
        )
        responded = plan.respond_by
        arose = add_months(received, -2)
        by_email = deadlines.escalation_request_by(
            policy, stage.number, responded, SentBy.EMAIL, received, arose
        )
        by_post = deadlines.escalation_request_by(
            policy, stage.number, responded, SentBy.POST, received, arose
        )
        matter = (
            f" for a matter that arose on {long_date(arose)}"
            if any(limb.counts_from is CountsFrom.MATTER_AROSE for limb in window.limbs)
            else ""
        )
        if by_email is not None and by_post is not None:
            sent = (
                f"A response sent on {long_date(responded)}{matter}: by e-mail, until {long_date(by_email)}"
            )
            lines.append(sent + ("." if by_post == by_email else f"; by post, until {long_date(by_post)}."))
        lines.append(
            "A late request may still be accepted at the council's discretion."
            if stage.late_escalation_at_discretion
            else "A late request is refused."
        )
        lines.append(
            "The complainant must give reasons for asking."
            if stage.escalation_reasons_required
            else "The complainant does not have to give reasons for asking."
        )
        who = _who_escalates()
        lines.append(f"Who may ask: {who}.")
        next_received = responded + timedelta(days=7)
    return Section(f"Stage {stage.number}: {stage.name}", tuple(lines)), next_received


def _who_escalates() -> str:
    action = ACTIONS["request_escalation"]
    staff = sorted(_ROLES.get(role.value, role.value.replace("_", " ")) for role in action.roles)
    parts = ["the complainant or their representative (on the resident pages)"] if action.resident else []
    parts.append(" or ".join(staff) + " on their behalf")
    return ", or ".join(parts)


def explain(policy: Policy, example_received: date) -> list[Section]:
    """The policy in plain English; each window with a worked example for a complaint received then."""
    closures = ", ".join(long_date(day) for day in policy.closure_days) or "none"
    sections = [
        Section(
            policy.name,
            (
                f"Policy file: {policy.id}." + (f" Source: {policy.source}." if policy.source else ""),
                f"Bank holidays of {_NATIONS[policy.nation]}; the council's own closure days: {closures}.",
                f"Dates are the council's local dates ({policy.timezone}); a deadline passes at the end of"
                " its day.",
                "Working days are Monday to Friday, less those bank holidays and closure days. Calendar-day"
                " and calendar-month periods are plain calendar arithmetic, not moved off weekends or"
                " holidays.",
                "Staff are reminded "
                + " and ".join(
                    f"{offset} working day{'s' if offset != 1 else ''}"
                    for offset in policy.reminder_offsets_working_days
                )
                + " before each due date.",
            ),
        )
    ]
    limit = policy.time_limit
    arose = add_months(example_received, -limit.months)
    who = [
        f"A complaint is taken up to {limit.months} months after the matter arose or came to the"
        f" complainant's notice (received on {long_date(example_received)}: a matter from"
        f" {long_date(arose)} or later);"
        + (
            " an older one at the council's discretion."
            if limit.late_at_discretion
            else " an older one is declined."
        ),
        "Anonymous complaints are taken."
        if policy.complainants.anonymous_allowed
        else "Anonymous complaints are not taken.",
    ]
    if policy.complainants.anonymous_note:
        who.append(f"On anonymous complaints the policy says: {policy.complainants.anonymous_note}")
    if policy.complainants.representatives_allowed:
        consent = {
            ConsentNeeded.NONE: "no recorded consent",
            ConsentNeeded.VERBAL: "the complainant's consent, verbal or written",
            ConsentNeeded.WRITTEN: "the complainant's written consent",
        }[policy.complainants.representative_consent]
        kinds = ", ".join(kind.replace("-", " ") for kind in policy.complainants.representative_kinds)
        who.append(f"Someone may complain for another ({kinds}), with {consent}.")
    else:
        who.append("No one may complain on another's behalf.")
    if policy.clock_stops_for_information:
        who.append(
            "While the council waits for information it asked the complainant for, the response clock stops."
        )
    sections.append(Section("Who may complain, and when", tuple(who)))
    if policy.exclusions:
        sections.append(
            Section(
                "Not handled as complaints",
                tuple(f"{item.label} ({item.code}): {item.signposting}" for item in policy.exclusions),
            )
        )
    received: date | None = example_received
    early = policy.early_resolution
    early_by = deadlines.early_resolution_by(policy, example_received)
    if early is not None and early_by is not None:
        # Issue 28: the early-resolution step before Stage 1; the example's Stage 1 starts on its last day.
        stage1_by = deadlines.plan_stage(policy, 1, early_by).respond_by
        counting = (
            " (counting from the day after receipt)"
            if early.counting_starts is CountingStarts.DAY_AFTER_RECEIPT
            else ""
        )
        sections.append(
            Section(
                f"Before Stage 1: {early.name}",
                (
                    f"Handled by: {early.handled_by}.",
                    f"Resolved within {period(early.resolve)} from when the complaint was received"
                    f"{counting}."
                    f" For a complaint received on {long_date(example_received)}: by {long_date(early_by)}.",
                    "Resolved there, the complaint closes with that outcome.",
                    "Otherwise Stage 1 starts, and its clock counts from the complainant's request for an"
                    " investigation or the officer's decision that early resolution does not fit: decided on"
                    f" {long_date(early_by)}, the Stage 1 response is due by {long_date(stage1_by)}.",
                ),
            )
        )
        received = early_by
    for stage in policy.stages:
        if received is None:
            break
        section, received = _stage(policy, stage, received)
        sections.append(section)
    ombudsman = policy.ombudsman
    sections.append(
        Section(
            "The ombudsman",
            (
                f"After the final response the complainant may go to {_OMBUDSMEN[ombudsman.body]}.",
                f"What they are told: {ombudsman.signposting}",
                (
                    "They may also go to the ombudsman if the council misses its deadlines."
                    if ombudsman.early_referral_when_deadline_missed
                    else "They go to the ombudsman after the council's final response."
                ),
                f"A referral is tracked for {ombudsman.tracked_months} months after closure; personal data is"
                f" kept {policy.retention_years} years after the complaint is finalised.",
            ),
        )
    )
    return sections


def as_text(sections: list[Section]) -> str:
    """Plain text: each heading underlined, each sentence its own paragraph line."""
    out: list[str] = []
    for section in sections:
        out += [section.title, "-" * len(section.title)]
        out += [f"- {line}" for line in section.lines]
        out.append("")
    return "\n".join(out)
