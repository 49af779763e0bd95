"""The sections of the annual complaints performance and service improvement report, as the Complaint
Handling Code's section 8 lists them, and which of them a complaints manager writes (stored per council and
year, store/annual_report_entries.py); the rest the service fills from its own records (reporting/annual.py).
"""

from __future__ import annotations

from enum import StrEnum


class EnteredSection(StrEnum):
    """The parts a manager enters (the service has no record of them)."""

    SELF_ASSESSMENT = "self_assessment"  # the landlord's conclusions on its self-assessment against the Code
    QUALITATIVE_ANALYSIS = "qualitative_analysis"  # what the year's complaints say, beyond the figures
    SERVICE_IMPROVEMENTS = "service_improvements"  # the improvements made from learning, told in words
    OMBUDSMAN_LETTER = "ombudsman_letter"  # the ombudsman's annual report or letter about the landlord
    OMBUDSMAN_REPORTS = "ombudsman_reports"  # any other report or publication of the ombudsman about it
    GOVERNING_BODY_RESPONSE = "governing_body_response"  # the board's or committee's response to the report


MAX_CHARS = 20_000
