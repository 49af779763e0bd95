"""The council policies shipped with the service (policies/*.toml), named once for the tests."""

from __future__ import annotations

from pathlib import Path

POLICIES_DIR = Path(__file__).resolve().parent.parent / "policies"
# The English councils' and the Housing Ombudsman Code's: England and Wales bank holidays, the tables and
# timings the tests write out by hand for them.
ENGLISH = (
    "bexley",
    "westminster",
    "barking-dagenham",
    "council-003",
    "council-004",
    "complaint-handling-code",
)
# The model procedures of the other nations: their own bank holidays (Easter Monday is not one in Scotland),
# so the English tables do not apply; tests/test_seed_rules*.py runs them.
OTHER_NATIONS = ("scotland-model", "wales-model", "northern-ireland-model")
SHIPPED = ENGLISH + OTHER_NATIONS
