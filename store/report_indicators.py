"""The ombudsmen's complaint indicators, for councils whose ombudsman asks for a set of its own: the SPSO's
(Scotland's model complaints handling procedure) and the PSOW's complaint data (Wales). Which set a council
reports is its ombudsman's (the policy's `ombudsman.body`); every figure comes from the same summaries as
the performance report (store/reports.py, store/report_sources.py).

SPSO indicators (each from the service's records):
- complaints received per 1,000 population (Stage 1 and Stage 2 received);
- complaints closed at each stage (answered), and escalated from Stage 1 to Stage 2;
- outcomes at each stage;
- average working days to a full response at each stage (clock stops left out, as the council counts them);
- closed within 5 working days at Stage 1 and 20 at Stage 2 (number and share);
- extensions at each stage;
- satisfaction: the answers to the one-question survey offered with the closure letter, given in the
  period (store/satisfaction.py; 4 and 5 of 5 count as satisfied);
- learning (indicator 1): the lessons recorded with the responses, by root cause, the improvements promised
  and those made (marked done) in the period, and the ombudsman's orders carried out
  (store/report_learning.py);
- staff awareness and training (indicator 3): the sessions a complaints manager recorded in the period
  (POST /api/reports/staff-training), by kind, and the staff they reached.
PSOW data: complaints received per 1,000 residents, the share answered within 20 working days, the share
upheld (in whole or in part) of those decided, and the complaints referred to the Ombudsman.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.policy import Ombudsman, Policy
from store import report_learning, reports, satisfaction
from store import report_sources as sources
from store.complaints import Executor

# Working days within which a stage is closed, per set: (Stage 1, Stage 2).
WITHIN = {Ombudsman.SPSO: (5, 20), Ombudsman.PSOW: (20, 20)}

_TIMES = f"""
SELECT stage, sum(responses)::int8 AS responded, sum(days::int8 * responses)::int8 AS working_days,
    coalesce(sum(responses) FILTER (WHERE days <= CASE stage WHEN 1 THEN $9::int ELSE $10::int END), 0)::int8
        AS within
FROM {sources.DAYS} AS responses
GROUP BY stage
"""

UPHELD = ("upheld", "partially_upheld")


def indicator_set(policy: Policy) -> Ombudsman | None:
    """The set a council reports, or None when its ombudsman asks for none of these."""
    body = policy.ombudsman.body
    return body if body in WITHIN else None


def _ratio(part: int, whole: int, scale: int = 100, digits: int = 1) -> float | None:
    return round(scale * part / whole, digits) if whole else None


async def indicators(
    db: Executor,
    *,
    policy: Policy,
    start: date,
    end: date,
    population: int | None,
    reader: str | None = None,
) -> dict[str, Any]:
    """The council's indicator set for the period; for a `reader` (a staff member's id), without the
    complaints closed to them on reads (store/reports.reading_for)."""
    body = indicator_set(policy)
    assert body is not None, "the caller checks the council has a set"
    within = WITHIN[body]
    async with reports.reading_for(db, reader) as (snapshot, leaving_out):
        args = reports.period_args(start, end, policy.id, None)
        report = await reports.performance(snapshot, start=start, end=end, policy_id=policy.id, reader=reader)
        times = {row["stage"]: dict(row) for row in await snapshot.fetch(_TIMES, *args, *within)}
        # SPSO indicators 1 and 3, from the records of learning and of training (store/report_learning.py),
        # read in the same snapshot: the complaints closed to the reader are left out of them too.
        learned = trained = None
        if body is Ombudsman.SPSO:
            learned = await report_learning.learning(snapshot, policy_id=policy.id, start=start, end=end)
            trained = await report_learning.staff_training(
                snapshot, policy_id=policy.id, start=start, end=end
            )
    stages: dict[str, dict[str, Any]] = {}
    for number in (1, 2):
        figures, timed = report[f"stage{number}"], times.get(number, {})
        responded = int(timed.get("responded") or 0)
        stages[f"stage{number}"] = {
            "received": figures["received"],
            "per_1000_population": _ratio(figures["received"], population, 1000, 2) if population else None,
            "closed": figures["responded"],
            "outcomes": figures["outcomes"],
            "average_working_days": _ratio(int(timed.get("working_days") or 0), responded, 1, 1),
            "within_working_days": within[number - 1],
            "closed_within": int(timed.get("within") or 0),
            "closed_within_percent": _ratio(int(timed.get("within") or 0), responded),
            "extended": figures["extended"],
        }
    common: dict[str, Any] = {
        "set": body.value,
        "policy_id": policy.id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "population": population,
        "closed_to_reader_left_out": leaving_out,
    }
    if body is Ombudsman.SPSO:
        return {
            **common,
            "indicators": {
                **stages,
                "escalated_to_stage2_percent": report["escalation_rate_percent"],
                "satisfaction": await satisfaction.counts(db, policy_id=policy.id, start=start, end=end),
                "learning": learned,
                "staff_awareness_and_training": trained,
            },
        }
    decided = sum(sum(report[f"stage{n}"]["outcomes"].values()) for n in (1, 2))
    upheld = sum(report[f"stage{n}"]["outcomes"].get(o, 0) for n in (1, 2) for o in UPHELD)
    received = stages["stage1"]["received"]
    closed = stages["stage1"]["closed"] + stages["stage2"]["closed"]
    closed_within = stages["stage1"]["closed_within"] + stages["stage2"]["closed_within"]
    return {
        **common,
        "indicators": {
            "received": received,
            "per_1000_residents": _ratio(received, population, 1000, 2) if population else None,
            "closed": closed,
            "closed_within_20_working_days": closed_within,
            "closed_within_20_working_days_percent": _ratio(closed_within, closed),
            "decided": decided,
            "upheld_in_whole_or_part": upheld,
            "upheld_percent": _ratio(upheld, decided),
            "referred_to_ombudsman": report["ombudsman"]["referrals"],
            "stage1": stages["stage1"],
            "stage2": stages["stage2"],
        },
    }
