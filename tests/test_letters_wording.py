"""What a resident reads in a letter (issue 30, point 9): a named way to reach the council, plain words for
remedies, no staff words, the ombudsman's web address and time limit wherever the ombudsman is named, and real
headings in the HTML e-mail. Pure rendering: no servers."""

from __future__ import annotations

import pytest

from domain.policy import OMBUDSMAN_WEBSITES, Policy, ResidentContact
from notifications.render import render
from tests.shipped_policies import SHIPPED
from tests.test_notifications import POLICIES, contexts

OMBUDSMAN_LETTERS = ("response", "stage2_response", "closure", "extension", "response_late")
FINISHED_LETTERS = ("response", "stage2_response", "closure", "withdrawal")


def with_contact(policy: Policy, **fields: str) -> Policy:
    return policy.model_copy(update={"resident_contact": ResidentContact.model_validate(fields)})


@pytest.mark.parametrize("policy_id", SHIPPED)
@pytest.mark.parametrize("template", OMBUDSMAN_LETTERS)
def test_the_ombudsman_paragraph_gives_the_web_address_and_the_time_limit(
    policy_id: str, template: str
) -> None:
    policy = POLICIES[policy_id]
    text = render(template, contexts(policy)[template], policy).text
    assert OMBUDSMAN_WEBSITES[policy.ombudsman.body] in text
    months = policy.ombudsman.tracked_months  # the body's own limit (6 months in Northern Ireland)
    assert f"within {months} months of our final response" in text


def test_a_council_can_point_to_its_own_ombudsman_page() -> None:
    policy = with_contact(POLICIES["bexley"], ombudsman_website="www.lgo.org.uk/make-a-complaint")
    text = render("closure", contexts(policy)["closure"], policy).text
    assert "www.lgo.org.uk/make-a-complaint" in text


@pytest.mark.parametrize("template", FINISHED_LETTERS)
def test_a_letter_saying_the_complaint_is_finished_does_not_say_which_stage_it_is_at(template: str) -> None:
    policy = POLICIES["bexley"]  # Stage 1 there is called "Investigation"
    text = render(template, contexts(policy)[template], policy).text
    assert "Complaint stage:" not in text
    assert "Complaint stage: Investigation" not in text


def test_remedies_are_in_plain_words_with_how_and_when_a_payment_is_made() -> None:
    policy = POLICIES["westminster"]
    text = render("response", contexts(policy)["response"], policy).text
    assert "Financial redress" not in text and "Apology:" not in text
    assert "- An apology: We apologise for the missed collections." in text
    assert "- A payment of £50: A payment for your time and trouble." in text
    assert "We will make the payment within 20 working days of this letter" in text
    assert "who:" not in text  # the owner of an action inside the council is staff business
    assert "(by Friday 18 December 2026)" in text
    other = with_contact(policy)
    other = other.model_copy(
        update={
            "resident_contact": other.resident_contact.model_copy(update={"payment_within_working_days": 10})
        }
    )
    assert "within 10 working days" in render("response", contexts(other)["response"], other).text


def test_without_contact_details_the_letter_still_names_a_route_and_the_team() -> None:
    policy = POLICIES["bexley"]
    text = render("acknowledgement", contexts(policy)["acknowledgement"], policy).text
    assert "Complaints team\nLondon Borough of Bexley" in text
    assert "How to contact us: reply to this message." in text
    assert "Hello," in text  # no name in the context: delivery adds it from the case record


def test_the_signature_names_the_councils_phone_email_and_address_and_the_relay_service() -> None:
    policy = with_contact(
        POLICIES["bexley"],
        team="Customer Feedback Team",
        phone="020 8303 7777",
        opening_hours="Monday to Friday, 9am to 5pm",
        email="complaints@bexley.example",
        address="Civic Offices, 2 Watling Street, Bexleyheath DA6 7AT",
    )
    context = contexts(policy)["acknowledgement"] | {"recipient_name": "Ada Resident"}
    text = render("acknowledgement", context, policy).text
    assert "Dear Ada Resident," in text
    assert "Customer Feedback Team\nLondon Borough of Bexley" in text
    assert (
        "How to contact us: reply to this message, phone 020 8303 7777 (Monday to Friday, 9am to 5pm),"
        " e-mail complaints@bexley.example, or write to Civic Offices, 2 Watling Street, Bexleyheath DA6 7AT."
    ) in text
    assert "Relay UK" in text


def test_a_policy_file_may_set_the_contact_routes_and_a_wrong_one_is_refused() -> None:
    data = POLICIES["bexley"].model_dump(mode="json", by_alias=True)
    data["resident_contact"] = {"phone": "020 8303 7777"}
    assert Policy.model_validate(data).resident_contact.phone == "020 8303 7777"
    data["resident_contact"] = {"fax": "020 8303 7778"}
    with pytest.raises(ValueError, match="fax"):
        Policy.model_validate(data)


def test_section_titles_are_real_headings_in_the_html_and_plain_lines_in_the_text() -> None:
    policy = POLICIES["bexley"]
    message = render("response", contexts(policy)["response"], policy)
    assert "<h1" in message.html and message.subject in message.html
    for title in ("Our decision", "What we found", "How we will put things right", "The ombudsman"):
        assert f"<h2>{title}</h2>" in message.html
        assert f"\n{title}\n" in message.text
    assert "\ue000" not in message.text


def test_a_residents_own_text_never_becomes_a_heading() -> None:
    policy = POLICIES["bexley"]
    context = contexts(policy)["acknowledgement"] | {"summary": "\ue000Not a heading\nstill the story"}
    message = render("acknowledgement", context, policy)
    assert "<h2>Not a heading</h2>" not in message.html
    assert "Not a heading" in message.text and "\ue000" not in message.text
