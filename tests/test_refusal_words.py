"""A workflow's refusal as a resident reads it on their complaint page: plain words, dates in full."""

from __future__ import annotations

from web.resident.refusal_words import for_resident


def test_a_closed_window_is_said_with_its_date_in_full() -> None:
    assert for_resident("the window to ask for Stage 2 closed on 2026-12-18") == (
        "the time to ask for this ended on Friday 18 December 2026"
    )


def test_a_late_request_tells_the_resident_what_they_can_still_do() -> None:
    for reason in (
        "only an officer can accept a late escalation request",
        "this policy does not accept late escalation requests",
    ):
        assert "contact our complaints team" in for_resident(reason)


def test_a_status_or_role_refusal_says_the_complaint_has_moved_on() -> None:
    for reason in (
        "cannot request escalation of a complaint that is closed",
        "cannot withdraw while the complaint is closed (possible when it is received, acknowledged)",
        "a resident cannot assign",
    ):
        words = for_resident(reason)
        assert words == "this is not possible now your complaint has moved on. See where it stands now"


def test_the_last_stage_points_to_the_ombudsman() -> None:
    assert "ombudsman" in for_resident("Stage 2 is the last stage of this policy")


def test_any_other_reason_keeps_its_words_with_dates_in_full() -> None:
    assert for_resident("the complaint was closed on 2027-01-04 by request") == (
        "the complaint was closed on Monday 4 January 2027 by request"
    )
