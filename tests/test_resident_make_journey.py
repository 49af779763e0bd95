"""Making a complaint one question a page (issue 30), over HTTP with the real app: "Who is it for?" first and
required, the "for someone else" pages only for someone else, answers kept on the server between pages (no
answer in an address), "Check your answers" with Change links that come back to it, the confirmation with
the real dates and why, and who is e-mailed what (a copy to whoever made it; for someone else, the
complainant told who made it, and asked for written consent where the council needs it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from api.resident.service import long_date
from api.resident.tokens import hash_token
from api.resident.wording import window_words
from domain.policy_files import load_policies
from notifications.delivery import deliver_one
from store.complaint_drafts import DraftRepository
from tests.api_helpers import CapturingSender
from tests.test_residents import Stack, make, new_email, new_ip, stack

__all__ = ["stack"]  # the fixture, imported so pytest finds it here

POLICIES = load_policies(Path(__file__).resolve().parent.parent / "policies")
STORY = "The boiler has not worked since 3 March; I phoned twice & nobody came."


async def answer(
    client: httpx.AsyncClient, page: str, data: Mapping[str, str | list[str]], *, change: bool = False
) -> str:
    """Post one question page; its answer accepted, where it goes next."""
    sent = await client.post(f"/complaint/make/{page}" + ("?change=1" if change else ""), data=data)
    assert sent.status_code == 303, (page, sent.status_code, sent.text[:3000])
    return str(sent.headers["location"])


def rows(page: str) -> dict[str, str]:
    found = re.findall(
        r'summary-list__key">([^<]+)</dt>\s*<dd class="govuk-summary-list__value pre-line">([^<]*)<', page
    )
    return dict(found)


async def test_one_question_a_page_for_yourself_then_check_answers_then_confirmation(stack: Stack) -> None:
    email = new_email()
    visited: list[str] = []
    async with stack.client() as client:
        begin = await client.get("/complaint/make?policy_id=bexley")
        assert begin.status_code == 303 and begin.headers["location"] == "/complaint/make/who-for"
        assert "complaint_draft=" not in begin.headers["set-cookie"]  # no draft before the first answer

        # "Who is the complaint for?" first, and required.
        first = await client.get("/complaint/make/who-for")
        assert first.status_code == 200 and "Who is the complaint for?" in first.text
        assert 'class="govuk-back-link"' in first.text
        empty = await client.post("/complaint/make/who-for", data={})
        assert empty.status_code == 422 and "Select who the complaint is for" in empty.text
        made = await client.post("/complaint/make/who-for", data={"on_behalf": "no"})
        assert made.status_code == 303
        visited.append(made.headers["location"])
        assert visited[-1] == "/complaint/make/council"
        cookie = made.headers["set-cookie"]
        assert "complaint_draft=" in cookie and "HttpOnly" in cookie and "Path=/complaint/make" in cookie
        assert "samesite=lax" in cookie.lower()
        secret = cookie.split("complaint_draft=", 1)[1].split(";", 1)[0]
        # Only the secret's hash is stored: the table alone opens no draft.
        drafts_with = "SELECT count(*) FROM complaint_drafts WHERE key_hash = $1"
        assert await stack.pool.fetchval(drafts_with, secret) == 0
        assert await stack.pool.fetchval(drafts_with, hash_token(secret)) == 1
        council = await client.get(visited[-1])
        assert 'value="bexley" selected' in council.text  # chosen on the start page
        visited.append(await answer(client, "council", {"policy_id": "bexley"}))
        # For yourself: none of the "for someone else" pages.
        assert visited[-1] == "/complaint/make/name"
        skipped = await client.get("/complaint/make/your-details")
        assert skipped.status_code == 303 and skipped.headers["location"] == "/complaint/make/name"
        name_page = await client.get("/complaint/make/name")
        assert "What is your full name?" in name_page.text
        assert 'href="/complaint/make/council"' in name_page.text  # Back goes to the question before
        short = await client.post("/complaint/make/name", data={"name": "E"})
        assert short.status_code == 422 and "Full name must be 2 characters or more" in short.text
        visited.append(await answer(client, "name", {"name": "Eve Resident"}))
        nothing = await client.post("/complaint/make/contact", data={"email": "", "phone": "", "address": ""})
        assert nothing.status_code == 422
        assert "Enter an e-mail address, a phone number or a postal address" in nothing.text
        visited.append(await answer(client, "contact", {"email": email, "phone": "", "address": ""}))
        visited.append(await answer(client, "service", {"service_area": "housing-repairs"}))
        visited.append(await answer(client, "home", {"tenure": "low_cost_rental"}))
        no_story = await client.post("/complaint/make/what-happened", data={"summary": ""})
        assert no_story.status_code == 422 and "Enter what went wrong" in no_story.text
        visited.append(await answer(client, "what-happened", {"summary": "Draft"}))
        visited.append(await answer(client, "outcome", {"desired_outcome": "Fix the boiler."}))
        visited.append(
            await answer(client, "support", {"adjustment_kinds": ["bsl"], "preferred_language": ""})
        )
        braille = await client.post(
            "/complaint/make/letters", data={"preferred_format": "braille", "address": ""}
        )
        assert braille.status_code == 422 and "Enter your postal address" in braille.text
        visited.append(await answer(client, "letters", {"preferred_format": "large_print", "address": ""}))
        assert visited[-1] == "/complaint/make/check"

        check = await client.get("/complaint/make/check")
        assert "Check your answers before sending your complaint" in check.text
        answers = rows(check.text)
        assert answers["Who the complaint is for"] == "Me"
        assert answers["Council"] == "London Borough of Bexley"
        assert answers["Full name"] == "Eve Resident" and answers["E-mail address"] == email
        assert answers["How the home is held"] == "I rent it from the council or housing association"
        assert answers["Support needed"] == "A British Sign Language interpreter"
        assert answers["Letters"] == "Large print"
        assert "Your name" not in answers
        # A Change to a question these answers do not ask goes back to checking.
        not_asked = await client.get("/complaint/make/your-details?change=1")
        assert not_asked.status_code == 303 and not_asked.headers["location"] == "/complaint/make/check"
        # Change goes to the question and, once answered, back to the check page.
        assert 'href="/complaint/make/what-happened?change=1"' in check.text
        change = await client.get("/complaint/make/what-happened?change=1")
        assert 'href="/complaint/make/check" class="govuk-back-link"' in change.text
        assert ">Draft</textarea>" in change.text
        assert (
            await answer(client, "what-happened", {"summary": STORY}, change=True) == "/complaint/make/check"
        )
        count = "SELECT count(*) FROM complaints WHERE complainant->>'email' = $1"
        assert await stack.pool.fetchval(count, email) == 0  # nothing is sent before "Send complaint"

        sent = await client.post("/complaint/make/check")
        assert sent.status_code == 200 and "Complaint received" in sent.text
        reference = re.findall(r'<strong id="reference">([^<]+)</strong>', sent.text)[0]
        again = await client.post("/complaint/make/check")  # a double click: the same complaint
        assert again.status_code == 200 and reference in again.text
        assert await stack.pool.fetchval(count, email) == 1

    record = await stack.pool.fetchrow(
        "SELECT acknowledge_by, respond_by, summary FROM complaints WHERE reference = $1", reference
    )
    assert record is not None
    assert record["summary"] == STORY
    bexley = POLICIES["bexley"]
    # What happens next, by when and why: the dates the case holds, the policy's periods.
    assert f"by <strong>{long_date(record['acknowledge_by'])}</strong>" in sent.text
    assert f"by <strong>{long_date(record['respond_by'])}</strong>" in sent.text
    respond_within = window_words(bexley.stages[0].respond)
    assert (
        f"within {respond_within}, under London Borough of Bexley&#39;s complaints policy, not counting"
        " weekends and bank holidays" in sent.text
    )
    assert 'id="urgent-help"' in sent.text
    assert "We have e-mailed you a copy of the complaint." in sent.text
    assert "We have e-mailed you a link to follow your complaint" in sent.text
    assert 'id="access-code"' in sent.text
    # No answer ever travelled in an address.
    for place in visited:
        assert "Eve" not in place and "@" not in place and "boiler" not in place

    # The copy of the complaint, e-mailed to the address given, with the dates.
    copy_id = await stack.pool.fetchval(
        "SELECT id FROM notifications WHERE reference = $1 AND template = 'complaint_copy'", reference
    )
    sender = CapturingSender()
    assert await deliver_one(stack.pool, sender, POLICIES, copy_id) == "sent"
    [message] = sender.messages
    assert message.to_address == email
    assert (
        "Dear Eve Resident," in message.text and STORY in message.text and "Fix the boiler." in message.text
    )
    assert f"by {long_date(record['respond_by'])}" in message.text
    assert "not counting weekends and bank holidays" in message.text
    # The draft is gone shortly after: a later visit starts again.
    await stack.pool.execute("UPDATE complaint_drafts SET expires_at = now() - interval '1 second'")
    async with stack.client() as client:
        client.cookies.set("complaint_draft", "x" * 43, path="/complaint/make")
        gone = await client.get("/complaint/make/name")
        assert gone.status_code == 410 and "Your answers have been deleted" in gone.text
    # The worker's purge (and any new draft) deletes expired drafts.
    assert await DraftRepository(stack.pool).purge_expired() >= 1
    assert await stack.pool.fetchval("SELECT count(*) FROM complaint_drafts WHERE expires_at <= now()") == 0


async def someone_else(client: httpx.AsyncClient, policy_id: str, helper: str, complainant_email: str) -> str:
    """The "for someone else" route to the check page; the complainant has `complainant_email` or none."""
    await client.get(f"/complaint/make?policy_id={policy_id}")
    assert await answer(client, "who-for", {"on_behalf": "yes"}) == "/complaint/make/council"
    assert await answer(client, "council", {"policy_id": policy_id}) == "/complaint/make/your-details"
    neither = await client.post(
        "/complaint/make/your-details",
        data={"representative_name": "Ben Helper", "representative_email": "", "representative_phone": ""},
    )
    assert neither.status_code == 422 and "so that we can contact you" in neither.text
    details = {
        "representative_name": "Ben Helper",
        "representative_email": helper,
        "representative_phone": "",
    }
    assert await answer(client, "your-details", details) == "/complaint/make/about-you"
    about = await client.get("/complaint/make/about-you")
    kind = re.findall(r'name="representative_kind" type="radio" value="([^"]+)"', about.text)[0]
    await answer(client, "about-you", {"representative_kind": kind, "representative_relationship": "Her son"})
    unticked = await client.post("/complaint/make/consent", data={})
    assert unticked.status_code == 422 and "Confirm that you have their consent" in unticked.text
    await answer(client, "consent", {"representative_consent": "yes"})
    name = await client.get("/complaint/make/name")
    assert "What is the full name of the person the complaint is for?" in name.text
    await answer(client, "name", {"name": "Ada Resident"})
    contact = await client.get("/complaint/make/contact")
    assert "How can we contact them?" in contact.text and "E-mail address (optional)" in contact.text
    # Their e-mail address is not required: the representative can be reached.
    await answer(client, "contact", {"email": complainant_email, "phone": "", "address": ""})
    await answer(client, "service", {"service_area": "general"})
    await answer(client, "home", {"tenure": ""})
    await answer(client, "what-happened", {"summary": "Her damp was never treated."})
    await answer(client, "outcome", {"desired_outcome": ""})
    await answer(client, "support", {"preferred_language": ""})
    assert await answer(client, "letters", {"preferred_format": "standard"}) == "/complaint/make/check"
    check = await client.get("/complaint/make/check")
    answers = rows(check.text)
    assert answers["Your name"] == "Ben Helper" and answers["Full name"] == "Ada Resident"
    sent = await client.post("/complaint/make/check")
    assert sent.status_code == 200 and "Complaint received" in sent.text, sent.text[:3000]
    return sent.text


async def test_written_consent_the_representative_is_told_what_is_needed_and_the_complainant_asked(
    stack: Stack,
) -> None:
    helper = new_email()
    async with stack.client() as client:
        page = await someone_else(client, "bexley", helper, "")
    reference = re.findall(r'<strong id="reference">([^<]+)</strong>', page)[0]
    assert "We need their consent in writing" in page
    assert "needs Ada Resident's consent in writing before you can act for them" in page
    assert "We will write to Ada Resident by post to ask for it" in page
    assert "We have e-mailed you a copy of the complaint." in page
    assert "e-mailed you a link" not in page and 'id="access-code"' not in page
    notices: dict[str, str] = {
        row["template"]: row["id"]
        for row in await stack.pool.fetch(
            "SELECT template, id FROM notifications WHERE reference = $1 AND template IN"
            " ('complaint_copy', 'consent_request', 'access_link')",
            reference,
        )
    }
    assert set(notices) == {"complaint_copy", "consent_request"}  # no link: Ada has no e-mail address
    sender = CapturingSender()
    assert await deliver_one(stack.pool, sender, POLICIES, notices["complaint_copy"]) == "sent"
    [copy] = sender.messages
    assert copy.to_address == helper and "Dear Ben Helper," in copy.text
    assert "needs Ada Resident's consent in writing before you can act for them" in copy.text
    assert reference in copy.text and "Her damp was never treated." in copy.text
    # The request for consent waits for the post (no e-mail address): staff see why.
    assert await deliver_one(stack.pool, sender, POLICIES, notices["consent_request"]) == "skipped"


async def test_verbal_consent_the_complainant_is_told_who_made_it_not_to_ignore_it(stack: Stack) -> None:
    helper, ada = new_email(), new_email()
    async with stack.client() as client:
        page = await someone_else(client, "scotland-model", helper, ada)
    reference = re.findall(r'<strong id="reference">([^<]+)</strong>', page)[0]
    assert "We need their consent in writing" not in page
    assert (
        "We have e-mailed Ada Resident a link to follow the complaint, and told them that you made it" in page
    )
    assert "We have e-mailed you a link" not in page
    assert "we will write to you about the complaint" in page
    link_id = await stack.pool.fetchval(
        "SELECT id FROM notifications WHERE reference = $1 AND template = 'access_link'", reference
    )
    sender = CapturingSender()
    assert await deliver_one(stack.pool, sender, POLICIES, link_id) == "sent"
    [link] = sender.messages
    assert link.to_address == ada and "Dear Ada Resident," in link.text
    assert "Ben Helper has made a complaint to" in link.text
    assert "If you did not agree to Ben Helper complaining for you, tell us" in link.text
    assert "ignore this e-mail" not in link.text


async def test_the_public_api_tells_a_representative_where_the_link_went(stack: Stack) -> None:
    """Consent on file (verbal): the link goes to the person the complaint is for, and the answer says so."""
    body: dict[str, Any] = {
        "policy_id": "scotland-model",
        "name": "Ada Resident",
        "email": new_email(),
        "summary": "Her damp was never treated.",
        "representative": {
            "name": "Ben Helper",
            "email": new_email(),
            "kind": "family",
            "relationship": "Her son",
            "consent_declared": True,
        },
    }
    async with stack.client() as client:
        made = await client.post("/api/public/complaints", json=body)
        assert made.status_code == 201, made.text
        message = made.json()["message"]
        assert "We have e-mailed the person it is for a link to track it" in message
        assert "e-mailed you" not in message
        # Without the complainant's e-mail address, a phone number for the representative is enough.
        body["email"] = None
        body["representative"] = body["representative"] | {"email": None, "phone": "07700 900 982"}
        by_phone = await client.post("/api/public/complaints", json=body)
        assert by_phone.status_code == 201, by_phone.text
        assert "e-mailed" not in by_phone.json()["message"]


async def test_without_an_e_mail_address_the_complaint_is_made_and_answered_by_post(stack: Stack) -> None:
    """No e-mail address (many residents have none): a postal address is enough; nothing says "we have
    e-mailed you", and the council's letters go by post."""
    address = f"Flat {new_email()[9:14]}, 1 High Street, Bexleyheath DA6 7AA"
    async with stack.client() as client:
        await client.get("/complaint/make?policy_id=bexley")
        await answer(client, "who-for", {"on_behalf": "no"})
        await answer(client, "council", {"policy_id": "bexley"})
        await answer(client, "name", {"name": "Cy Resident"})
        assert await answer(client, "contact", {"email": "", "phone": "", "address": address}) == (
            "/complaint/make/service"
        )
        for page, data in (
            ("service", {"service_area": "general"}),
            ("home", {"tenure": ""}),
            ("what-happened", {"summary": "The bins were not collected for a month."}),
            ("outcome", {"desired_outcome": ""}),
            ("support", {"preferred_language": ""}),
            ("letters", {"preferred_format": "standard", "address": address}),
        ):
            await answer(client, page, data)
        check = rows((await client.get("/complaint/make/check")).text)
        assert check["E-mail address"] == "Not given" and check["Postal address"] == address
        sent = await client.post("/complaint/make/check")
    assert sent.status_code == 200 and "Complaint received" in sent.text
    reference = re.findall(r'<strong id="reference">([^<]+)</strong>', sent.text)[0]
    assert "You did not give an e-mail address, so we cannot e-mail you a copy" in sent.text
    assert "We will write to you about your complaint by post or phone" in sent.text
    assert "e-mailed you" not in sent.text
    assert 'id="access-code"' in sent.text  # the way to follow it online
    stored = await stack.pool.fetchval("SELECT complainant FROM complaints WHERE reference = $1", reference)
    assert stored["email"] is None and stored["preferred_contact"] == "letter"
    queued = await stack.pool.fetchval(
        "SELECT count(*) FROM notifications WHERE reference = $1"
        " AND template IN ('access_link', 'complaint_copy')",
        reference,
    )
    assert queued == 0


async def test_too_many_complaints_is_said_on_the_check_page_and_the_answers_stay(stack: Stack) -> None:
    app = stack.app_with(resident_complaints_per_address=1)
    async with stack.client(new_ip(), app=app) as client:
        await make(client, email=new_email())  # the address's one complaint for now
        await client.get("/complaint/make?policy_id=bexley")
        for page, data in (
            ("who-for", {"on_behalf": "no"}),
            ("council", {"policy_id": "bexley"}),
            ("name", {"name": "Dee Resident"}),
            ("contact", {"email": new_email(), "phone": "", "address": ""}),
            ("service", {"service_area": "general"}),
            ("home", {"tenure": ""}),
            ("what-happened", {"summary": "The street light is out."}),
            ("outcome", {"desired_outcome": ""}),
            ("support", {"preferred_language": ""}),
            ("letters", {"preferred_format": "standard", "address": ""}),
        ):
            await answer(client, page, data)
        refused = await client.post("/complaint/make/check")
        assert refused.status_code == 429 and refused.headers["retry-after"]
        assert "Check your answers before sending your complaint" in refused.text
        assert 'href="#send">Too many complaints were made' in refused.text
        again = await client.get("/complaint/make/check")  # nothing typed is lost
        assert again.status_code == 200 and "The street light is out." in again.text
