"""The ombudsmen's decisions as data: each body's own determinations, and how a decision is kept for reports.

A decision recorded on a complaint (`record-ombudsman-decision`) names one determination from the vocabulary
of the complaint's ombudsman, whether the ombudsman found a failure in the council's complaint handling (the
Code's non-compliance findings, which the annual report lists), and the orders or recommendations, tracked to
done like promised actions. The ombudsman's own words stay free text, on the event as a note.

The vocabularies follow the outcomes each body publishes for a complaint it has decided (checked against
the bodies' own pages, December 2026; the codes of the first version stay, so recorded decisions still read):
- Housing Ombudsman: its eight findings, "What findings can the Housing Ombudsman make?"
  (https://www.housing-ombudsman.org.uk/residents/how-will-you-investigate-my-complaint/what-findings-can-the-housing-ombudsman-make/):
  no maladministration, service failure, maladministration, severe maladministration, mediation, redress
  (kept as `reasonable_redress`: the landlord put it right before the Ombudsman's investigation), outside
  jurisdiction and withdrawn; a case with several findings has the overall determination of partial
  maladministration, and its published decisions also name "resolved with intervention / early resolution"
  ("Guidance on decisions", https://www.housing-ombudsman.org.uk/guidance-on-decisions/).
- Local Government and Social Care Ombudsman: "Possible outcomes"
  (https://www.lgo.org.uk/make-a-complaint/possible-outcomes): upheld with recommendations
  (`fault_causing_injustice`), upheld in part, upheld where the council had already put things right
  (`remedied_before_involvement`), upheld where the fault had no significant effect (`fault_no_injustice`),
  not upheld (`no_fault`), or not investigated; since April 2014 its statistics say upheld / not upheld
  (https://www.lgo.org.uk/information-centre/reports/annual-review-reports/interpreting-local-authority-statistics),
  and premature complaints are referred back to the council ("Note on interpretation of local authority
  statistics", http://www.lgo.org.uk/publications/annual-report/note-interpretation-statistics/). "Closed
  after initial enquiries" is the annual review letters' name for one it decided not to investigate (not
  read on a fetched page here).
- Scottish Public Services Ombudsman: its decisions' outcomes ("Upheld, recommendations", "Some upheld,
  recommendations", "Not upheld", e.g. https://www.spso.org.uk/outcome/some-upheld-recommendations) and its
  "Explanation of terms" (https://www.spso.org.uk/explanation-terms): premature, out of jurisdiction, and
  cases resolved at early decision. Recommendations are the orders below. "Discontinued" is not confirmed
  on a fetched page.
- Public Services Ombudsman for Wales: early resolution (intervention), closed after initial consideration,
  premature and out of jurisdiction, as its annual letters count them (a council's report of its letter,
  https://pembroke-today.co.uk/news/782-complaints-received-to-pembrokeshire-council-in-202122-554725), and
  reports upheld or not upheld, a public interest report being its section 16 report
  (https://www.wrexham.gov.uk/service/complaints-and-compliments/public-services-ombudsman-wales-investigations).
  "Discontinued" is not confirmed on a fetched page.
- Northern Ireland Public Services Ombudsman: still not confirmed (searched again, 7 December 2026, in the
  stored copies of public pages this project can search; no live page could be read). No NIPSO page found
  lists the outcomes of a decided complaint. What its pages and statute do say: it investigates complaints of
  injustice sustained through maladministration (Public Services Ombudsman Act (Northern Ireland) 2016,
  s. 5 and s. 1(2), https://legislation.gov.uk/nia/2016/4/part/2/crossheading/power-of-investigation/2022-12-06;
  "How will NIPSO deal with my complaint?",
  https://nipso.org.uk/nipso/making-a-complaint/how-will-nipso-deal-with-my-complaint/), where it finds
  maladministration it may make recommendations for a remedy and to prevent a recurrence, and its case
  digests show "a range of outcomes" after an initial assessment or a full investigation, with no list of
  them (https://www.theioi.org/ioi-news/current-news/nipso-publishes-first-case-digest-for-spring-2019).
  Its service standards name the stages (initial assessment; accepted for investigation; a draft report
  with proposed findings), not the findings
  (https://nipso.org.uk/nipso/making-a-complaint/our-service-standards-our-complaints-procedure/). So the
  list stays the common one (upheld, partially upheld, not upheld, settled, premature, outside
  jurisdiction, discontinued) until a NIPSO annual report's outcome table or a published investigation
  report's "findings" section is read; "maladministration and injustice" is how its reports reason, not a
  published category, so it is not added as one.
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
        "partial_maladministration",
        "mediation",
        "resolved_with_intervention",
        "withdrawn",
    ),
    Ombudsman.LGSCO: (
        "fault_causing_injustice",
        "fault_no_injustice",
        "no_fault",
        "remedied_before_involvement",
        "closed_after_initial_enquiries",
        "referred_back_for_local_resolution",
        "outside_jurisdiction",
        "upheld_in_part",
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
