"""The ombudsmen's decisions as data: each body's own determinations, and how a decision is kept for reports.

A decision recorded on a complaint (`record-ombudsman-decision`) names one determination from the vocabulary
of the complaint's ombudsman, whether the ombudsman found a failure in the council's complaint handling (the
Code's non-compliance findings, which the annual report lists), and the orders or recommendations, tracked to
done like promised actions. The ombudsman's own words stay free text, on the event as a note.

The vocabularies follow the outcomes each body publishes for a complaint it has decided:
- Housing Ombudsman (Housing Ombudsman Scheme; its guidance on outcomes): severe maladministration,
  maladministration, service failure, no maladministration, reasonable redress (the landlord had put it
  right), outside jurisdiction.
- Local Government and Social Care Ombudsman (its decision statements): fault causing injustice, fault
  without injustice, no fault, a satisfactory remedy already provided by the council, closed after initial
  enquiries, referred back for local resolution, outside jurisdiction.
- Scottish Public Services Ombudsman: upheld, some upheld, not upheld, resolved, premature, outside
  jurisdiction, discontinued.
- Public Services Ombudsman for Wales (its annual letters' outcomes): upheld (in whole or in part), not
  upheld, early resolution or voluntary settlement, premature, outside jurisdiction, discontinued, closed
  after initial consideration, public interest report.
- Northern Ireland Public Services Ombudsman: upheld, partially upheld, not upheld, settled, premature,
  outside jurisdiction, discontinued.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.policy import Ombudsman

DETERMINATIONS: dict[Ombudsman, tuple[str, ...]] = {
    Ombudsman.HOUSING_OMBUDSMAN: (
        "severe_maladministration",
        "maladministration",
        "service_failure",
        "no_maladministration",
        "reasonable_redress",
        "outside_jurisdiction",
    ),
    Ombudsman.LGSCO: (
        "fault_causing_injustice",
        "fault_no_injustice",
        "no_fault",
        "remedied_before_involvement",
        "closed_after_initial_enquiries",
        "referred_back_for_local_resolution",
        "outside_jurisdiction",
    ),
    Ombudsman.SPSO: (
        "upheld",
        "some_upheld",
        "not_upheld",
        "resolved",
        "premature",
        "outside_jurisdiction",
        "discontinued",
    ),
    Ombudsman.PSOW: (
        "upheld",
        "not_upheld",
        "early_resolution",
        "premature",
        "outside_jurisdiction",
        "discontinued",
        "closed_after_initial_consideration",
        "public_interest_report",
    ),
    Ombudsman.NIPSO: (
        "upheld",
        "partially_upheld",
        "not_upheld",
        "settled",
        "premature",
        "outside_jurisdiction",
        "discontinued",
    ),
}

# A decision recorded before determinations were data (free text): counted, never named.
UNRECORDED = "unrecorded"
_FAILURE = "complaint_handling_failure"


def body_of(value: str) -> Ombudsman | None:
    try:
        return Ombudsman(value)
    except ValueError:
        return None


def refusal(body: Ombudsman, determination: str) -> str | None:
    """Why `determination` is not one of `body`'s (None when it is)."""
    known = DETERMINATIONS[body]
    if determination in known:
        return None
    return f"determination: {determination!r} is not one of the {body.value}'s: {', '.join(known)}"


@dataclass(frozen=True)
class Finding:
    """What reports count of a decision: the body, its determination, and a complaint-handling failure."""

    body: str
    determination: str
    complaint_handling_failure: bool = False

    def code(self) -> str:
        """One short code for the stage row (complaint_stages.ombudsman_decision), so the monthly summaries
        count decisions by it unchanged: `body:determination`, with `+complaint_handling_failure`."""
        failure = f"+{_FAILURE}" if self.complaint_handling_failure else ""
        return f"{self.body}:{self.determination}{failure}"

    @classmethod
    def of_code(cls, code: str) -> Finding:
        """A code read back; a decision kept as free text before is an unrecorded determination."""
        finding, plus, flag = code.partition("+")
        body, colon, determination = finding.partition(":")
        if not colon or body_of(body) is None:
            return cls(UNRECORDED, UNRECORDED)
        return cls(body, determination, plus == "+" and flag == _FAILURE)
