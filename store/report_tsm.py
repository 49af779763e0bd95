"""The Regulator's Tenant Satisfaction Measures on complaints, from the summaries on the Code's clock
(migration 250, store/report_sources.CODE), next to the council's own figures (store/reports.py).

- CH01: Stage 1 and Stage 2 complaints received in the period (declined ones included, as `received`
  counts them) per 1,000 homes owned; per tenure, per 1,000 homes of that tenure (low-cost rental and
  low-cost home ownership are the two the Regulator asks for; the other tenures are counted, with a rate
  where a homes figure is given). Null without a homes figure.
- CH02: of the stages answered, those answered on or before their date on the Code's clock
  (domain/tsm.py); the acknowledgements within the Code's 5 working days alongside.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.tsm import CODE_TIMESCALES, Tenure
from store import report_sources as sources
from store.complaints import Executor

NOT_RECORDED = "not_recorded"


def code_figures(rows: str = sources.STAGE_ROWS) -> str:
    return f"""
    SELECT stage, coalesce(tenure, '{NOT_RECORDED}') AS tenure,
        sum(received)::int8 AS received, sum(acknowledged)::int8 AS acknowledged,
        sum(acknowledged_within_code)::int8 AS acknowledged_within_code, sum(responded)::int8 AS responded,
        sum(responded_within_code)::int8 AS responded_within_code
    FROM {sources.code(rows)} AS code
    WHERE stage IN (1, 2)
    GROUP BY 1, 2
    """


_CODE_FIGURES = code_figures()


def _per_1000(count: int, homes: int | None) -> float | None:
    return round(1000 * count / homes, 2) if homes else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def timescales() -> dict[str, dict[str, int]]:
    """The Code's timescales the figures use, printed beside them."""
    return {
        f"stage{number}": {
            "acknowledge_working_days": scale.acknowledge,
            "respond_working_days_from_acknowledgement": scale.respond,
            "extension_up_to_working_days": scale.extension_up_to,
        }
        for number, scale in CODE_TIMESCALES.items()
    }


async def tsm(
    db: Executor,
    args: tuple[Any, ...],
    *,
    homes: int | None,
    homes_by_tenure: Mapping[Tenure, int],
) -> dict[str, Any]:
    """CH01 and CH02 for a report's period (`args`: the report sources' $1 to $8)."""
    rows = [dict(row) for row in await db.fetch(_CODE_FIGURES, *args)]
    return figures(rows, homes=homes, homes_by_tenure=homes_by_tenure)


def figures(
    rows: list[dict[str, Any]], *, homes: int | None, homes_by_tenure: Mapping[Tenure, int]
) -> dict[str, Any]:
    """CH01 and CH02 from the rows of `code_figures` (the performance report computes them in its own
    statement, store/reports.py)."""

    def total(stage: int, measure: str, tenure: str | None = None) -> int:
        return sum(
            row[measure]
            for row in rows
            if row["stage"] == stage and (tenure is None or row["tenure"] == tenure)
        )

    by_tenure: dict[str, dict[str, Any]] = {}
    for tenure in [*Tenure, NOT_RECORDED]:
        tenure_homes = homes_by_tenure.get(tenure)
        by_tenure[tenure] = {"homes": tenure_homes}
        for stage in (1, 2):
            received = total(stage, "received", tenure)
            by_tenure[tenure][f"stage{stage}_received"] = received
            by_tenure[tenure][f"stage{stage}_per_1000_homes"] = _per_1000(received, tenure_homes)
    ch01: dict[str, Any] = {}
    ch02: dict[str, Any] = {}
    for stage in (1, 2):
        received = total(stage, "received")
        ch01[f"stage{stage}_received"] = received
        ch01[f"stage{stage}_per_1000_homes"] = _per_1000(received, homes)
        responded, within = total(stage, "responded"), total(stage, "responded_within_code")
        acknowledged = total(stage, "acknowledged")
        acknowledged_within = total(stage, "acknowledged_within_code")
        ch02[f"stage{stage}_responded"] = responded
        ch02[f"stage{stage}_within_code"] = within
        ch02[f"stage{stage}_within_code_percent"] = _percent(within, responded)
        ch02[f"stage{stage}_acknowledged"] = acknowledged
        ch02[f"stage{stage}_acknowledged_within_code"] = acknowledged_within
    ch01["by_tenure"] = by_tenure
    return {"homes_owned": homes, "timescales": timescales(), "ch01": ch01, "ch02": ch02}


def rows_for_csv(figures: dict[str, Any]) -> list[tuple[str, str, str, str, Any]]:
    """The measures as CSV rows (section, key, stage, measure, value), the Code's timescales first."""
    rows: list[tuple[str, str, str, str, Any]] = []
    for stage, scale in figures["timescales"].items():
        rows += [("tsm", "code_timescale", stage, measure, value) for measure, value in scale.items()]
    rows.append(("tsm", "ch01", "", "homes_owned", figures["homes_owned"]))
    for measure in ("ch01", "ch02"):
        for name, value in figures[measure].items():
            if name != "by_tenure":
                stage, _, figure = name.partition("_")
                rows.append(("tsm", measure, stage, figure, value))
    for tenure, entry in figures["ch01"]["by_tenure"].items():
        for name, value in entry.items():
            stage, _, figure = name.partition("_") if name != "homes" else ("", "", name)
            rows.append(("tsm", f"ch01:{tenure}", stage, figure, value))
    return rows
