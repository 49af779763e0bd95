"""The Regulator of Social Housing's Tenant Satisfaction Measures on complaints (CH01, CH02): the Complaint
Handling Code's own clock and the tenures CH01 is reported by.

CH02 counts a response as within the Code's timescales whatever the council's own windows, clock stops or
extensions say (the Regulator's technical requirements): acknowledged within 5 working days of receipt, and
answered within 10 (Stage 1) or 20 (Stage 2) working days of the acknowledgement, plus any extension up to
the Code's limit (10 working days at Stage 1, 20 at Stage 2). A late acknowledgement buys no time: the
response window runs from the acknowledgement or from the day it was due, whichever is earlier. Waiting for
the complainant does not stop the Code's clock.

Pure: the dates are computed by the record activity and the read-model rebuild, with the council's working
calendar, and stored in the stage rows (complaint_stages.code_acknowledge_by, code_respond_by), so reports
stay sums over the monthly summaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.calendar import WorkingCalendar


class Tenure(StrEnum):
    """The complainant's tenure, as CH01 separates it (optional on intake)."""

    LOW_COST_RENTAL = "low_cost_rental"
    LOW_COST_HOME_OWNERSHIP = "low_cost_home_ownership"
    LEASEHOLDER = "leaseholder"
    OTHER = "other"
    NOT_A_TENANT = "not_a_tenant"


# The tenures CH01 is reported for, each per 1,000 homes of that tenure.
CH01_TENURES = (Tenure.LOW_COST_RENTAL, Tenure.LOW_COST_HOME_OWNERSHIP)


@dataclass(frozen=True)
class CodeTimescale:
    """One stage's timescales under the Complaint Handling Code, in working days."""

    acknowledge: int
    respond: int  # from the acknowledgement
    extension_up_to: int  # the longest extension the Code allows (a longer one counts only up to it)


CODE_TIMESCALES = {1: CodeTimescale(5, 10, 10), 2: CodeTimescale(5, 20, 20)}


def code_timescale(stage: int) -> CodeTimescale:
    """The Code has two stages: a third stage some councils keep is timed as Stage 2."""
    return CODE_TIMESCALES[1 if stage <= 1 else 2]


@dataclass(frozen=True)
class CodeDates:
    acknowledge_by: date
    respond_by: date


def code_dates(
    cal: WorkingCalendar,
    *,
    stage: int,
    day_zero: date,
    acknowledged_on: date | None,
    extension_working_days: int,
) -> CodeDates:
    """When the stage must be acknowledged and answered on the Code's clock.

    `day_zero` is the stage's day 0 (receipt, moved to a working day); `extension_working_days` the
    working days the council's extensions added (counted up to the Code's limit).
    """
    timescale = code_timescale(stage)
    acknowledge_by = cal.add_working_days(day_zero, timescale.acknowledge)
    acknowledged = cal.day_zero(acknowledged_on) if acknowledged_on is not None else acknowledge_by
    window = timescale.respond + min(max(extension_working_days, 0), timescale.extension_up_to)
    return CodeDates(acknowledge_by, cal.add_working_days(min(acknowledged, acknowledge_by), window))
