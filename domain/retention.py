"""Retention: when a finalised complaint's personal data must be destroyed. Pure domain code, no I/O."""

from __future__ import annotations

from datetime import datetime

from domain.policy import Policy


def years_before(moment: datetime, years: int) -> datetime:
    """`moment` the same day and time `years` earlier; 29 February becomes 28 February (one day earlier, so
    data is never destroyed early)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def retention_cutoff(policy: Policy, as_of: datetime) -> datetime:
    """Complaints of this policy finalised before the cutoff are past retention at `as_of`.

    Barking and Dagenham's "kept for 7 years following the complaint being finalised": a complaint closed at
    10:00 on 3 March 2026 is kept until 10:00 on 3 March 2033 and destroyed by the first purge after it.
    """
    return years_before(as_of, policy.retention_years)
