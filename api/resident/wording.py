"""Policy periods in residents' words, for the pages ("10 working days", "2 months")."""

from __future__ import annotations

from domain.policy import Policy, Unit, Window

_UNITS = {
    Unit.WORKING_DAYS: ("working day", "working days"),
    Unit.CALENDAR_DAYS: ("day", "days"),
    Unit.CALENDAR_MONTHS: ("month", "months"),
}


def window_words(window: Window) -> str:
    one, many = _UNITS[window.unit]
    return f"{window.amount} {one if window.amount == 1 else many}"


def stage_name(policy: Policy | None, number: int) -> str:
    """A stage by the policy's own name for it ("Stage 2", "Review", "Investigation"...): one name per stage,
    the same on every resident page (issue 30)."""
    if policy is None:
        return f"Stage {number}"
    try:
        return policy.stage(number).name
    except (KeyError, ValueError):
        return f"Stage {number}"


def next_stage(policy: Policy | None, number: int) -> str:
    """The policy's name for the stage after `number` ("Review"), or "" when `number` is its last stage (or
    the council is not known): the start page and the access e-mail offer only a stage that exists."""
    if policy is None or number >= policy.last_stage:
        return ""
    return stage_name(policy, number + 1)
