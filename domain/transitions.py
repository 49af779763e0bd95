"""Which action may happen in which status, and where it leads: decided here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from domain.models import FINAL_STATUSES, Status

S = Status
OPEN = frozenset(Status) - FINAL_STATUSES
INVESTIGATING = frozenset({S.ACKNOWLEDGED, S.AWAITING_INFORMATION})


@dataclass(frozen=True)
class Rule:
    allowed_from: frozenset[Status]
    to: Status | None  # None: the status does not change


RULES: dict[str, Rule] = {
    "acknowledge": Rule(frozenset({S.RECEIVED, S.ESCALATION_REQUESTED}), S.ACKNOWLEDGED),
    "decline": Rule(frozenset({S.RECEIVED}), S.DECLINED),
    "assign": Rule(OPEN, None),
    "request_information": Rule(frozenset({S.ACKNOWLEDGED}), S.AWAITING_INFORMATION),
    "information_received": Rule(frozenset({S.AWAITING_INFORMATION}), S.ACKNOWLEDGED),
    "add_information": Rule(OPEN, None),
    "open_linked_complaint": Rule(OPEN, None),
    "extend": Rule(INVESTIGATING, None),
    "record_extension_agreement": Rule(INVESTIGATING, None),
    # The target is decided by the stage: `responded` when another stage may follow, else `closed`.
    "respond": Rule(INVESTIGATING, S.RESPONDED),
    "request_escalation": Rule(frozenset({S.RESPONDED}), S.ESCALATION_REQUESTED),
    "refuse_escalation": Rule(frozenset({S.ESCALATION_REQUESTED}), S.ESCALATION_REFUSED),
    "close": Rule(frozenset({S.RESPONDED}), S.CLOSED),
    "escalation_window_closed": Rule(frozenset({S.RESPONDED}), S.CLOSED),
    "withdraw": Rule(OPEN, S.WITHDRAWN),
    "recalculate_deadlines": Rule(OPEN, None),
    "restrict_contact": Rule(frozenset(Status), None),
    "add_note": Rule(frozenset(Status), None),
    "complete_action": Rule(frozenset(Status), None),
    "refer_to_ombudsman": Rule(frozenset(Status), None),
    "record_ombudsman_decision": Rule(frozenset(Status), None),
}


class TransitionRefused(ValueError):
    """An action that is not possible now; the message says why, for the person who tried it."""


class StaleState(TransitionRefused):
    """The sender acted on an out-of-date view of the complaint (another action happened since)."""


def _words(text: str) -> str:
    return text.replace("_", " ")


def check(action: str, status: Status) -> Rule:
    """The rule for `action`, or TransitionRefused with a reason a resident or an officer can read."""
    rule = RULES[action]
    if status not in rule.allowed_from:
        possible = ", ".join(sorted(_words(allowed) for allowed in rule.allowed_from))
        now = _words(status)
        raise TransitionRefused(
            f"cannot {_words(action)} while the complaint is {now} (possible when it is {possible})"
        )
    return rule
