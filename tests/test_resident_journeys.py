"""The complaint page tells the whole story (issue 30): an open question with its answer box at the top, each
letter's full text, the outcome in words, withdrawing only after a confirmation, nothing more to send once the
complaint is finished, and a signed-out visit told how to sign in. Over HTTP; the browser test checks the same
pages in Chromium with axe-core."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx

from domain import commands as cmd
from domain.models import AdjustmentKind, Adjustments, LetterFormat
from domain.support import support_lines
from tests.factories import INVESTIGATOR, OFFICER
from tests.make_journey import answers, begin, error_summary, make_on_pages, post_page, walk
from tests.test_residents import Stack, make, settled, stack
from tests.test_residents_pages import signed_in

__all__ = ["stack"]  # the fixture, imported so pytest finds it here

QUESTION = "Please send photos of the damp and the dates you reported it."


async def test_the_complaint_page_shows_the_question_the_letters_and_the_outcome_in_words(
    stack: Stack,
) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        await settled(stack, reference)
        await signed_in(client, reference, token)
        await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await stack.staff(reference, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        await stack.staff(
            reference, "request_information", cmd.RequestInformation(actor=INVESTIGATOR, request=QUESTION)
        )

        html = (await client.get(f"/complaint/{reference}")).text
        # The question and its answer box come first, before the summary of dates.
        assert "We need more information from you" in html and QUESTION in html
        assert html.index(QUESTION) < html.index('class="govuk-summary-list"')
        assert re.search(r'for="summary">\s*Your answer', html)
        assert html.index('id="summary"') < html.index('class="govuk-summary-list"')
        assert html.count('name="summary"') == 1  # one answer box, not a second "send information" form
        # Each letter's full text, greeted by the name on the case.
        assert "<table" not in html
        assert "Read the letter" in html
        assert "Dear Ada Resident," in html
        assert "Thank you for your complaint. We have received it" in html
        assert "Please send it to us by replying to this message." in html

        answer = await client.post(
            f"/complaint/{reference}/information",
            data={"summary": "Photos attached by post.", "form_key": form_key_of(html)},
        )
        assert answer.status_code == 303
        await stack.staff(
            reference,
            "respond",
            cmd.Respond(
                actor=INVESTIGATOR, outcome="partially_upheld", findings="The repair was booked late."
            ),
        )
        html = (await client.get(f"/complaint/{reference}")).text
        outcome = re.search(r'id="outcome">(.*?)</dd>', html, re.S)
        assert outcome is not None
        assert "Partly upheld" in outcome.group(1)
        assert (
            "We agree that we got some things wrong, but not everything you complained about."
            in outcome.group(1)
        )
        assert "The repair was booked late." in html  # the response letter's findings, in full
        assert "We need more information from you" not in html


def form_key_of(html: str) -> str:
    found = re.search(r'name="form_key" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def test_withdrawing_takes_a_confirmation_and_leaves_no_promise_behind(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        await settled(stack, reference)
        await signed_in(client, reference, token)
        await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))

        page = (await client.get(f"/complaint/{reference}")).text
        assert "We will respond by" in page
        assert 'name="reason"' not in page  # no one-click withdrawal on the complaint page
        assert f'href="/complaint/{reference}/withdraw"' in page

        confirm = await client.get(f"/complaint/{reference}/withdraw")
        assert confirm.status_code == 200
        assert "Are you sure you want to withdraw your complaint?" in confirm.text
        assert "Yes, withdraw my complaint" in confirm.text
        assert f'href="/complaint/{reference}">No, keep my complaint' in confirm.text

        too_long = await client.post(
            f"/complaint/{reference}/withdraw",
            data={"reason": "x" * 5001, "form_key": form_key_of(confirm.text)},
        )
        assert too_long.status_code == 422
        assert (
            "Are you sure you want to withdraw your complaint?" in too_long.text
        )  # asked again, not withdrawn

        done = await client.post(
            f"/complaint/{reference}/withdraw",
            data={"reason": "Sorted.", "form_key": form_key_of(confirm.text)},
        )
        assert done.status_code == 303 and done.headers["location"].endswith("?done=withdrawn")
        page = (await client.get(f"/complaint/{reference}")).text
        assert "Withdrawn" in page
        assert "We will respond by" not in page
        assert "Upload file" not in page and 'name="file"' not in page  # no evidence on a finished complaint
        assert "Send us more information" not in page
        # The confirmation page is gone, and a file posted anyway is not taken.
        again = await client.get(f"/complaint/{reference}/withdraw")
        assert again.status_code == 303 and again.headers["location"] == f"/complaint/{reference}"
        upload = await client.post(
            f"/complaint/{reference}/evidence",
            data={"form_key": form_key_of(confirm.text)},
            files={"file": ("photo.txt", b"late evidence", "text/plain")},
        )
        assert upload.status_code == 303
        assert not await stack.pool.fetchval(
            "SELECT count(*) FROM attachments WHERE reference = $1", reference
        )


async def test_the_complaint_pages_boxes_say_why_one_message_per_cause_with_a_character_count(
    stack: Stack,
) -> None:
    """Issue 30 (7): an empty box and one too long never share a message ("Tell us what went wrong" was both),
    and every long answer has the GOV.UK character count with its limit."""
    async with stack.client() as client:
        reference, token = await make(client)
        await settled(stack, reference)
        await signed_in(client, reference, token)
        await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        page = (await client.get(f"/complaint/{reference}")).text
        box = page.split("Send us more information", 1)[1].split("</form>", 1)[0]
        assert 'data-module="govuk-character-count"' in box and 'data-maxlength="10000"' in box
        key = form_key_of(page)

        async def refused(path: str, **fields: str) -> dict[str, str]:
            sent = await client.post(f"/complaint/{reference}/{path}", data={"form_key": key} | fields)
            assert sent.status_code == 422, (path, sent.status_code)
            return error_summary(sent.text)

        empty = await refused("information", summary="")
        too_long = await refused("information", summary="x" * 10_001)
        assert empty == {"summary": "Enter the information you want to send us"}
        assert too_long == {"summary": "The information you send must be 10,000 characters or fewer"}
        withdraw = (await client.get(f"/complaint/{reference}/withdraw")).text
        assert 'data-module="govuk-character-count"' in withdraw and 'data-maxlength="5000"' in withdraw
        assert await refused("withdraw", reason="x" * 5_001) == {
            "reason": "Why you are withdrawing your complaint must be 5,000 characters or fewer"
        }

        await stack.staff(reference, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        respond = cmd.Respond(
            actor=INVESTIGATOR, outcome="not_upheld", findings="The repair was done on time."
        )
        await stack.staff(reference, "respond", respond)
        page = (await client.get(f"/complaint/{reference}")).text
        review = page.split('id="review-heading"', 1)[1].split("</form>", 1)[0]
        assert review.count('data-module="govuk-character-count"') == 2
        assert 'data-maxlength="10000"' in review and 'data-maxlength="5000"' in review
        assert await refused("review", reasons="x" * 10_001, outcome_wanted="y" * 5_001) == {
            "reasons": "Why you are unhappy with our response must be 10,000 characters or fewer",
            "outcome_wanted": "What you want us to do must be 5,000 characters or fewer",
        }


async def test_a_signed_out_visit_says_how_to_sign_in(stack: Stack) -> None:
    async with stack.client() as maker:
        reference, _ = await make(maker)
    async with stack.client() as visitor:
        page = await visitor.get(f"/complaint/{reference}")
        assert "Sign in to see your complaint" in page.text
        assert "Complaint not found" not in page.text
        assert "access code" in page.text and 'href="/complaint/track"' in page.text
        assert "Ada" not in page.text and "Damp" not in page.text
        # The same answer for a reference that does not exist: nothing tells whether a complaint exists.
        missing = await visitor.get("/complaint/CMP-1999-000001")
        assert missing.status_code == page.status_code and "Sign in to see your complaint" in missing.text


async def test_the_start_page_says_before_you_start_from_the_councils_policy(stack: Stack) -> None:
    async with stack.client() as client:
        page = (await client.get("/?policy_id=bexley")).text
        assert 'id="council-name">London Borough of Bexley' in page
        assert "Before you start" in page
        assert "If someone is in danger, call 999" in page  # urgent help
        assert "within 12 months of finding out about the problem" in page  # bexley's time limit
        assert re.search(r"acknowledge your complaint within \d+ working days", page)
        assert "weekends and bank holidays" in page
        for way in ("by letter", "in person", "Relay UK", "British Sign Language"):
            assert way in page, way
        assert 'href="/complaint/make?policy_id=bexley"' in page  # the question pages
        # Without a council chosen: every council to choose from, the urgent line, and the other routes.
        general = (await client.get("/")).text
        assert 'href="/?policy_id=bexley">London Borough of Bexley' in general
        assert "call 999" in general and "by phone, by post, in person" in general
        # The footer links to the accessibility statement and the privacy notice, which exist.
        assert 'href="/accessibility"' in general and 'href="/privacy"' in general
        statement = await client.get("/accessibility?policy_id=bexley")
        assert statement.status_code == 200 and "Accessibility statement" in statement.text
        assert "London Borough of Bexley" in statement.text
        privacy = await client.get("/privacy?policy_id=bexley")
        assert privacy.status_code == 200 and "Equality monitoring questions" in privacy.text
        assert "6 years after it is finished" in privacy.text  # bexley's retention


async def test_the_councils_own_contact_routes_are_on_the_start_page(stack: Stack) -> None:
    services = stack.app.state.services
    bexley = services.policies["bexley"]
    contact = bexley.resident_contact.model_copy(
        update={"phone": "020 8303 7777", "address": "Civic Offices, Bexleyheath DA6 7AT"}
    )
    services.policies["bexley"] = bexley.model_copy(update={"resident_contact": contact})
    try:
        async with stack.client() as client:
            page = (await client.get("/?policy_id=bexley")).text
        assert "by phone on 020 8303 7777" in page
        assert "by post to Civic Offices, Bexleyheath DA6 7AT" in page
    finally:
        services.policies["bexley"] = bexley


async def test_each_field_says_why_it_was_refused(stack: Stack) -> None:
    """GOV.UK error messages, one per cause per field, on the question page that asks the field."""
    async with stack.client() as client:
        await begin(client, "bexley")

        async def refused(slug: str, **fields: str) -> dict[str, str]:
            page = await post_page(client, slug, fields)
            assert page.status_code == 422, (slug, page.status_code)
            return error_summary(page.text)

        assert await refused("name", name="") == {"name": "Enter the full name"}
        assert await refused("name", name="A") == {"name": "Full name must be 2 characters or more"}
        # Not required by itself (issue 30): some way to reach the complainant is.
        no_contact = (
            "Enter an e-mail address, a phone number or a postal address, so that we can reply to you"
        )
        assert await refused("contact", email="", phone="", address="") == {"email": no_contact}
        assert await refused("contact", email="sam.blake@", phone="not a number", address="") == {
            "email": "Enter an e-mail address in the correct format, like name@example.com",
            "phone": "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192",
        }
        assert await refused("what-happened", summary="") == {"summary": "Enter what went wrong"}
        long = await post_page(client, "what-happened", {"summary": "x" * 10_001})
        assert error_summary(long.text) == {"summary": "What went wrong must be 10,000 characters or fewer"}
        # The character count component, with its limit, on the long answers.
        assert 'data-module="govuk-character-count"' in long.text and 'data-maxlength="10000"' in long.text
        outcome = await client.get("/complaint/make/outcome")
        assert 'data-module="govuk-character-count"' in outcome.text
        assert 'data-maxlength="5000"' in outcome.text
        too_long = await post_page(client, "outcome", {"desired_outcome": "y" * 5_001})
        assert too_long.status_code == 422 and "5,000 characters or fewer" in too_long.text

    async with stack.client() as client:
        fine = answers(name="Al", phone="+44 808 157 0192", summary="The lift is broken.")
        sent = await make_on_pages(client, fine)
        assert sent.status_code == 200 and "Complaint received" in sent.text


def test_each_need_is_said_once_with_what_the_council_will_do() -> None:
    needs = Adjustments(
        kinds=[AdjustmentKind.LARGE_PRINT, AdjustmentKind.BSL],
        preferred_format=LetterFormat.LARGE_PRINT,
        details="Please do not phone me.",
    )
    lines = support_lines(needs)
    assert [line.asked for line in lines] == [
        "Letters in large print",  # asked twice (a kind and the format): said once
        "A British Sign Language (BSL) interpreter",
        "You told us: Please do not phone me.",
    ]
    assert "otherwise contact you in writing" in lines[1].we_will
    assert support_lines(None) == [] and support_lines(Adjustments()) == []


async def test_the_support_asked_for_is_repeated_on_the_confirmation_the_page_and_the_acknowledgement(
    stack: Stack,
) -> None:
    form = answers(
        name="Dee Resident",
        summary="The entry phone does not work, so I cannot let visitors in.",
        adjustment_kinds=["bsl"],
        preferred_format="braille",
        adjustment_details="I am Deaf: please do not phone me.",
    )
    async with stack.client() as client:
        # One format question, and what it needs: braille is posted, so an address is asked for.
        no_address = await walk(client, form)
        assert no_address.status_code == 422 and "What format should our letters be in?" in no_address.text
        # Large print is a format, asked once: not a second box on the support page.
        assert no_address.text.count('value="large_print"') == 1
        support_page = (await client.get("/complaint/make/support")).text
        assert 'value="large_print"' not in support_page
        assert error_summary(no_address.text) == {
            "address": "Enter your postal address, so that we can post you letters in braille"
        }
        form["address"] = "Flat 2, 10 High Street, Bexleyheath DA6 7AA"
        created = await make_on_pages(client, form)
        assert created.status_code == 200 and "Complaint received" in created.text
        for text in (
            "The support you asked for",
            "A British Sign Language (BSL) interpreter",
            "We will book a BSL interpreter",
            "Letters in braille",
            "We will post our letters to you in braille.",
            "You told us: I am Deaf: please do not phone me.",
        ):
            assert text in created.text, text
        reference = re.search(r'id="reference">([^<]+)<', created.text)
        assert reference is not None
        await settled(stack, reference.group(1))
        await stack.staff(reference.group(1), "acknowledge", cmd.Acknowledge(actor=OFFICER))
        complainant = await stack.pool.fetchval(
            "SELECT complainant FROM complaints WHERE reference = $1", reference.group(1)
        )
        assert complainant["address"] == "Flat 2, 10 High Street, Bexleyheath DA6 7AA"
        page = (await client.get(f"/complaint/{reference.group(1)}")).text
        support = page.split('id="support"', 1)[1].split("</dl>", 1)[0]
        assert "Letters in braille" in support and "BSL" in support
        # The acknowledgement letter, in full on the page, says it too.
        letters = page.split('id="letters"', 1)[1]
        assert "The support you asked for" in letters
        assert "- Letters in braille. We will post our letters to you in braille." in letters


async def asked_to_agree_a_later_response(stack: Stack, client: httpx.AsyncClient) -> tuple[str, date]:
    """A complaint made and acknowledged, the resident signed in on `client`, and the investigator asking
    them to agree to a response up to the returned date (400 days on): its reference and that date."""
    reference, token = await make(client)
    await settled(stack, reference)
    await signed_in(client, reference, token)
    await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    asked_for = (datetime.now(UTC) + timedelta(days=400)).date()
    ask = cmd.AskExtensionAgreement(actor=INVESTIGATOR, up_to=asked_for, reason="The survey is in March.")
    await stack.staff(reference, "ask_extension_agreement", ask)
    return reference, asked_for


async def test_the_extension_answer_takes_a_govuk_date_after_the_current_one(stack: Stack) -> None:
    async with stack.client() as client:
        reference, asked_for = await asked_to_agree_a_later_response(stack, client)
        page = (await client.get(f"/complaint/{reference}")).text
        assert "The survey is in March." in page.split('id="extension-question"', 1)[1]
        assert 'name="up_to-day"' in page and 'name="up_to-month"' in page and 'name="up_to-year"' in page
        assert 'type="date"' not in page
        respond_by = await stack.pool.fetchval(
            "SELECT respond_by FROM complaints WHERE reference = $1", reference
        )
        key = form_key_of(page)

        async def answer(**fields: str) -> tuple[int, dict[str, str]]:
            response = await client.post(f"/complaint/{reference}/extension", data={"form_key": key} | fields)
            return response.status_code, error_summary(response.text) if response.status_code != 303 else {}

        assert await answer() == (
            422,
            {"agreed": "Select yes if you agree that we can send our response later"},
        )
        status, errors = await answer(agreed="yes")
        assert status == 422 and errors == {"up_to-day": "Enter the latest date you agree to, like 29 1 2027"}
        status, errors = await answer(
            agreed="yes", **{"up_to-day": "31", "up_to-month": "2", "up_to-year": str(respond_by.year + 1)}
        )
        assert errors == {"up_to-day": "The latest date must be a real date"}
        same_day = {"up_to-day": str(respond_by.day), "up_to-month": str(respond_by.month)}
        status, errors = await answer(agreed="yes", **same_day, **{"up_to-year": str(respond_by.year)})
        assert status == 422 and list(errors.values())[0].startswith("The latest date must be after ")
        status, _ = await answer(agreed="yes", **same_day, **{"up_to-year": str(respond_by.year + 1)})
        assert status == 303
        state = await stack.pool.fetchval("SELECT state FROM complaints WHERE reference = $1", reference)
        assert str(respond_by.replace(year=respond_by.year + 1)) in str(state)


async def test_an_unanswered_extension_question_goes_once_the_response_is_sent(stack: Stack) -> None:
    """Issue 30 (6): the question "Can we send our response later?" stayed after the response."""
    async with stack.client() as client:
        reference, token = await make(client)
        await settled(stack, reference)
        await signed_in(client, reference, token)
        await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await stack.staff(reference, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        asked_for = (datetime.now(UTC) + timedelta(days=400)).date()
        ask = cmd.AskExtensionAgreement(actor=INVESTIGATOR, up_to=asked_for, reason="The survey is in March.")
        await stack.staff(reference, "ask_extension_agreement", ask)
        page = (await client.get(f"/complaint/{reference}")).text
        assert "Can we send our response later?" in page
        respond = cmd.Respond(
            actor=INVESTIGATOR, outcome="not_upheld", findings="The repair was done on time."
        )
        await stack.staff(reference, "respond", respond)
        page = (await client.get(f"/complaint/{reference}")).text
        assert "Can we send our response later?" not in page.split('id="letters"', 1)[0]
        assert 'name="up_to-day"' not in page and 'id="extension-question"' not in page
        # An answer sent anyway (a page left open) records nothing.
        late = await client.post(
            f"/complaint/{reference}/extension", data={"form_key": form_key_of(page), "agreed": "yes"}
        )
        assert late.status_code == 303 and late.headers["location"] == f"/complaint/{reference}"
        recorded = await stack.pool.fetchval(
            "SELECT count(*) FROM complaint_events WHERE reference = $1"
            " AND action = 'record_extension_agreement'",
            reference,
        )
        assert recorded == 0
