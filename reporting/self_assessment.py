"""The self-assessment against the Housing Ombudsman's Complaint Handling Code: the provisions this service
enforces or measures, each with the Code's requirement, what the service does (under this council's policy)
and the evidence from the year's own records, so the landlord writes only the rest (the provisions about
its culture, staff and governance, and its comments).

Section numbers are those of the Code in force from April 2024. The figures come from store/reports.py.
"""

from __future__ import annotations

from typing import Any

from domain.policy import CountsFrom, Policy, Window
from reporting.annual import TEMPLATES, financial_year, year_label
from store import reports
from store.complaints import Executor


def _window(window: Window) -> str:
    unit = window.unit.value.replace("_", " ")
    start = {CountsFrom.RECEIPT: "receipt", CountsFrom.ACKNOWLEDGEMENT: "acknowledgement"}.get(
        window.counts_from, window.counts_from.value
    )
    return f"{window.amount} {unit} from {start}"


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole} ({100 * part / whole:.1f}%)" if whole else "none this year"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value}%"


def provisions(policy: Policy, report: dict[str, Any], evidence: dict[str, Any]) -> list[dict[str, Any]]:
    s1, s2 = report["stage1"], report["stage2"]
    e1, e2 = evidence["stage1"], evidence["stage2"]
    first = policy.stage(1)
    second = policy.stage(2) if policy.last_stage >= 2 else None
    declined = ", ".join(f"{code}: {count}" for code, count in evidence["declined_by_exclusion"].items())
    rows: list[dict[str, Any]] = [
        {
            "section": "3",
            "provision": "Exclusions",
            "requirement": "Accept a complaint unless there is a valid reason not to; explain a refusal "
            "and the resident's right to take it to the Ombudsman.",
            "service": "A complaint can be declined only under one of the policy's "
            f"{len(policy.exclusions)} exclusions, with a reason; the letter gives the exclusion, "
            "signposting and the Ombudsman's details.",
            "evidence": f"{s1['declined']} of {s1['received']} complaints declined"
            + (f" ({declined})." if declined else "."),
            "figures": {
                "received": s1["received"],
                "declined": s1["declined"],
                **evidence["declined_by_exclusion"],
            },
        },
        {
            "section": "6.2",
            "provision": "Stage 1 acknowledgement",
            "requirement": "Acknowledge, define and log a complaint within 5 working days of receipt.",
            "service": f"The policy's window is {_window(first.acknowledge)}; staff are reminded before it "
            "passes and the complaint is flagged overdue after.",
            "evidence": f"Acknowledged on time: {_share(s1['acknowledged_on_time'], s1['acknowledged'])}.",
            "figures": {"acknowledged": s1["acknowledged"], "on_time": s1["acknowledged_on_time"]},
        },
        {
            "section": "6.3",
            "provision": "Stage 1 response",
            "requirement": "Respond within 10 working days of acknowledgement.",
            "service": f"The policy's window is {_window(first.respond)}; reminders, and an overdue flag and "
            "alert to managers when it passes.",
            "evidence": f"Answered on time: {_share(s1['responded_on_time'], s1['responded'])}; by the first "
            f"date given: {_share(s1['responded_within_original_deadline'], s1['responded'])}.",
            "figures": {
                "responded": s1["responded"],
                "on_time": s1["responded_on_time"],
                "within_original_deadline": s1["responded_within_original_deadline"],
            },
        },
        {
            "section": "6.4",
            "provision": "Stage 1 extensions",
            "requirement": "An extension must not exceed 10 working days without good reason, explained to "
            "the resident; beyond that, agreed with them.",
            "service": f"Officers may extend by up to {first.extension.officer_limit_working_days} working "
            "days with a reason in writing; the service refuses a later date without the resident's recorded "
            "agreement.",
            "evidence": f"{e1['extended']} extended; {e1['beyond_limit']} beyond the limit, "
            f"{e1['beyond_limit_agreed']} of them with the resident's agreement.",
            "figures": {k: e1[k] for k in ("extended", "beyond_limit", "beyond_limit_agreed")},
        },
    ]
    if second is not None:
        rows += [
            {
                "section": "6.11",
                "provision": "Stage 2 acknowledgement",
                "requirement": "Acknowledge a Stage 2 request within 5 working days.",
                "service": f"The policy's window is {_window(second.acknowledge)}, timed like Stage 1.",
                "evidence": "Acknowledged on time: "
                f"{_share(s2['acknowledged_on_time'], s2['acknowledged'])}.",
                "figures": {"acknowledged": s2["acknowledged"], "on_time": s2["acknowledged_on_time"]},
            },
            {
                "section": "6.12",
                "provision": "Escalation without giving reasons",
                "requirement": "Residents must not be required to explain why they want Stage 2.",
                "service": "A Stage 2 request needs no reasons; a late one may be accepted by an officer "
                "with a reason.",
                "evidence": f"{s2['received']} Stage 2 complaints; escalation rate "
                f"{_percent(report['escalation_rate_percent'])}.",
                "figures": {
                    "stage2_received": s2["received"],
                    "escalation_rate_percent": report["escalation_rate_percent"],
                },
            },
            {
                "section": "6.13",
                "provision": "Stage 2 by someone independent",
                "requirement": "The person considering Stage 2 must not be the one who considered Stage 1.",
                "service": "Stage 2 is answered by a reviewer or manager; the service refuses someone who "
                "handled or answered Stage 1.",
                "evidence": "Answered by someone other than Stage 1's responder: "
                f"{_share(e2['answered_by_someone_else'], e2['answered'])}.",
                "figures": {"answered": e2["answered"], "independent": e2["answered_by_someone_else"]},
            },
            {
                "section": "6.14",
                "provision": "Stage 2 response",
                "requirement": "Respond within 20 working days of acknowledging the Stage 2 request.",
                "service": f"The policy's window is {_window(second.respond)}, with reminders and overdue "
                "alerts.",
                "evidence": f"Answered on time: {_share(s2['responded_on_time'], s2['responded'])}.",
                "figures": {"responded": s2["responded"], "on_time": s2["responded_on_time"]},
            },
            {
                "section": "6.15",
                "provision": "Stage 2 extensions",
                "requirement": "An extension must not exceed 20 working days without good reason; beyond "
                "that, agreed with the resident.",
                "service": f"Up to {second.extension.officer_limit_working_days} working days by an officer; "
                "later only with the resident's recorded agreement.",
                "evidence": f"{e2['extended']} extended; {e2['beyond_limit']} beyond the limit, "
                f"{e2['beyond_limit_agreed']} of them with the resident's agreement.",
                "figures": {k: e2[k] for k in ("extended", "beyond_limit", "beyond_limit_agreed")},
            },
        ]
    rows += [
        {
            "section": "7",
            "provision": "Putting things right",
            "requirement": "Remedies that put things right, with actions tracked until done.",
            "service": "A response records remedies (apology, action, financial redress...) and actions with "
            "owners and due dates; overdue actions alert staff.",
            "evidence": f"{report['remedies']['count']} remedies, "
            f"£{report['remedies']['compensation_pence'] / 100:,.2f} redress; actions: "
            f"{report['actions']['promised']} promised, {report['actions']['done']} done, "
            f"{report['actions']['overdue']} overdue.",
            "figures": {**report["remedies"], **{f"actions_{k}": v for k, v in report["actions"].items()}},
        },
        {
            "section": "8",
            "provision": "Annual self-assessment and report",
            "requirement": "Publish an annual complaints performance and service improvement report with "
            "this self-assessment.",
            "service": "The annual report (GET /api/reports/annual) and this self-assessment come from the "
            "service's own records.",
            "evidence": f"{s1['received']} Stage 1 and {s2['received']} Stage 2 complaints this year; "
            f"{report['ombudsman']['referrals']} referred to the Ombudsman.",
            "figures": {"stage1_received": s1["received"], "stage2_received": s2["received"]},
        },
    ]
    return rows


async def self_assessment(
    db: Executor, *, policy: Policy, year: int, reader: str | None = None
) -> dict[str, Any]:
    """The year's evidence in one snapshot; for a `reader`, without the complaints closed to them on reads
    (store/reports.reading_for)."""
    start, end = financial_year(year)
    limits = (
        policy.stage(1).extension.officer_limit_working_days,
        policy.stage(2).extension.officer_limit_working_days if policy.last_stage >= 2 else 0,
    )
    async with reports.reading_for(db, reader) as (snapshot, _):
        report = await reports.performance(
            snapshot, start=start, end=end, policy_id=policy.id, homes=policy.homes, reader=reader
        )
        evidence = await reports.code_evidence(
            snapshot, start=start, end=end, policy_id=policy.id, extension_limits=limits, reader=reader
        )
    return {
        "policy_id": policy.id,
        "landlord": policy.name,
        "year": year_label(year),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "closed_to_reader_left_out": report["closed_to_reader_left_out"],
        "provisions": provisions(policy, report, evidence),
    }


def render_self_assessment(assessment: dict[str, Any]) -> str:
    return TEMPLATES.get_template("self_assessment.html").render(assessment=assessment)
