"""The resident pages over HTTP (no browser): markup basics, forms guarded against other sites, refusals and
the guess limit shown as pages. The journey itself runs in Chromium in test_resident_browser.py."""

from __future__ import annotations

import asyncio
import html
import random
import re

import httpx
import pytest

from api.errors import ProblemError
from api.resident import actions as resident_actions
from api.resident.tokens import form_key
from api.resident.view import long_date
from api.routes.resident_pages import COOKIE
from tests.make_journey import access_code_of, answers, make_on_pages, post_page, reference_of, send, walk
from tests.test_residents import Stack, latest_link, make, new_email, responded, settled, stack

__all__ = ["stack"]  # the fixture, imported so pytest finds it here


async def signed_in(client: httpx.AsyncClient, reference: str, token: str) -> str:
    """Sign in with the reference and access code; the session secret the cookie holds."""
    response = await client.post("/complaint/track", data={"reference": reference, "token": token})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/complaint/{reference}"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/complaint" in cookie
    assert "Secure" not in cookie  # COOKIE_SECURE unset outside production
    session = client.cookies[COOKIE]
    assert token not in cookie and session != token
    return session


async def test_pages_are_plain_accessible_html(stack: Stack) -> None:
    async with stack.client() as client:
        # The real GOV.UK Frontend, vendored: its CSS, its JavaScript and the fonts its CSS asks for.
        css = await client.get("/resident-static/govuk-frontend/govuk-frontend.min.css")
        assert css.status_code == 200 and ".govuk-button" in css.text
        assert (await client.get("/resident-static/govuk-frontend/govuk-frontend.min.js")).status_code == 200
        for font in re.findall(r"url\((/assets/fonts/[^)]+)\)", css.text):
            assert (await client.get(font)).status_code == 200, font
        # "/complaint/make" starts a complaint and goes on to its first question page.
        for path in ("/", "/complaint/make", "/complaint/track", "/complaint/new-link"):
            page = await client.get(path, follow_redirects=True)
            assert page.status_code == 200, path
            assert page.headers["content-type"].startswith("text/html")
            html = page.text
            assert '<html lang="en"' in html
            assert 'href="#main-content"' in html and 'id="main-content"' in html
            # Only GOV.UK's one-line feature check and the module that enhances the page: nothing the page
            # needs to work (the browser test runs with JavaScript off).
            assert re.findall(r"<script[^>]*>", html) == [
                "<script>",
                '<script type="module" src="/resident-static/govuk-init.js">',
            ]
            for field in re.findall(r'<(?:input|textarea|select)[^>]*\bid="([^"]+)"', html):
                assert f'for="{field}"' in html, (path, field)


async def test_a_form_from_another_site_does_nothing(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        session = await signed_in(client, reference, token)
        forged = await client.post(f"/complaint/{reference}/withdraw", data={"reason": "forged"})
        assert forged.status_code == 303
        assert forged.headers["location"] == f"/complaint/{reference}"
        status = await stack.pool.fetchval("SELECT status FROM complaints WHERE reference = $1", reference)
        assert status != "withdrawn"

        page = await client.get(f"/complaint/{reference}")
        assert f'value="{form_key(session)}"' in page.text
        withdrawn = await client.post(
            f"/complaint/{reference}/withdraw", data={"reason": "Fixed", "form_key": form_key(session)}
        )
        assert withdrawn.status_code == 303
        assert withdrawn.headers["location"] == f"/complaint/{reference}?done=withdrawn"
        page = await client.get(withdrawn.headers["location"])
        assert "Your complaint has been withdrawn." in page.text
        assert "You withdrew your complaint." in page.text


async def test_a_refusal_is_shown_with_the_workflows_reason(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        session = await signed_in(client, reference, token)
        refused = await client.post(
            f"/complaint/{reference}/review", data={"reasons": "Early", "form_key": form_key(session)}
        )
        assert refused.status_code == 409
        assert "There is a problem" in refused.text
        assert (
            "We could not take your complaint to the next stage: this is not possible now your complaint has"
            " moved on" in refused.text
        )
        assert (
            "cannot request escalation" not in refused.text and "while the complaint is" not in refused.text
        )
        assert "<title>Error: " in refused.text
        # The form is not offered now: the message links to the complaint's status.
        assert '<a href="#status-text">We could not take your complaint' in refused.text
        assert 'id="status-text"' in refused.text


async def test_council_004s_review_form_asks_for_what_it_needs_to_know(stack: Stack) -> None:
    """council-004: "we need to know: ... what they disagree with in the complaint response, and; what further
    action they would like to be taken" (issue 24): neither question is marked optional, and a request
    without the action wanted is refused with the reason."""
    async with stack.client() as client:
        reference, token = await make(client, policy_id="council-004")
        await settled(stack, reference)
        await responded(stack, reference)
        session = await signed_in(client, reference, token)
        page = await client.get(f"/complaint/{reference}")
        form = page.text.split('id="review-heading"')[1].split("</form>")[0]
        assert "Why are you unhappy with our response?" in form
        assert "What further action do you want us to take?" in form
        assert "(optional)" not in form
        refused = await client.post(
            f"/complaint/{reference}/review", data={"reasons": "Not inspected", "form_key": form_key(session)}
        )
        # A missing answer, shown beside its own question (not the reasons box), as one the resident can give.
        assert refused.status_code == 422
        error = refused.text.split('id="outcome_wanted-error"')[1].split("</p>")[0]
        assert "what further action or outcome is wanted" in error
        assert "outcome_wanted:" not in refused.text


async def test_the_created_page_and_the_one_time_link(stack: Stack) -> None:
    async with stack.client() as client:
        made = await make_on_pages(
            client, answers(service_area="waste", summary="Bins not collected.", desired_outcome="")
        )
        # The confirmation is the answer itself: the access code is shown once, and never stored in clear.
        assert made.status_code == 200, made.text
        reference = re.search(r'<strong id="reference">([^<]+)</strong>', made.text)
        token = re.search(r'<code id="access-code">([^<]+)</code>', made.text)
        assert reference is not None and token is not None
        reference_, token_ = reference[1], token[1]
        assert token_ not in made.headers["set-cookie"]
        # Signed in at once; the confirmation again leaves the code out.
        again = await client.get(f"/complaint/{reference_}/created")
        assert again.status_code == 200 and token_ not in again.text and reference_ in again.text
        # Issue 30: seen again, it still says what happens next, by when and why, from the case record.
        dates = await stack.pool.fetchrow(
            "SELECT acknowledge_by, respond_by FROM complaints WHERE reference = $1", reference_
        )
        assert dates is not None and dates["respond_by"] is not None
        steps = again.text.split('id="what-happens-next"')[1].split("</ul>")[0]
        assert f"We will send our response by <strong>{long_date(dates['respond_by'])}</strong>" in steps
        if dates["acknowledge_by"] is not None:
            acknowledge_by = long_date(dates["acknowledge_by"])
            assert f"acknowledge the complaint by <strong>{acknowledge_by}</strong>" in steps
        why = html.unescape(" ".join(again.text.split('id="why-dates">')[1].split("</p>")[0].split()))
        assert "under London Borough of Bexley's complaints policy" in why
        assert "not counting weekends and bank holidays" in why
        assert "Your access code was shown once" in again.text
        # What was sent belongs to the first showing: the page seen again does not claim to send it again.
        assert 'id="who-gets-what"' not in again.text
        assert (await client.get(f"/complaint/{reference_}")).status_code == 200
        link = await latest_link(stack.pool, reference_)
        # Already signed in to this complaint, the e-mailed link goes straight to it and spends nothing.
        straight = await client.get("/complaint/track", params=link)
        assert straight.status_code == 303 and straight.headers["location"] == f"/complaint/{reference_}"
    async with stack.client() as elsewhere:
        # The e-mailed link, elsewhere: a Continue button (fetching the link, as a mail scanner does, spends
        # nothing), on a page whose address is never sent on as a Referer.
        for _ in range(2):
            opened = await elsewhere.get("/complaint/track", params=link)
            assert opened.status_code == 200 and "Continue" in opened.text
            assert opened.headers["referrer-policy"] == "no-referrer"
            assert opened.headers["cache-control"] == "no-store"
        signed = await elsewhere.post("/complaint/track", data=link)
        assert signed.status_code == 303 and signed.headers["location"] == f"/complaint/{reference_}"
        page = await elsewhere.get(signed.headers["location"])
        assert page.status_code == 200 and "Bins not collected." in page.text
    async with stack.client() as later:
        # The link worked once.
        used = await later.post("/complaint/track", data=link)
        assert used.status_code == 404 and "This link has been used already" in used.text
    async with stack.client() as nobody:
        # Without the cookie, nothing.
        assert (await nobody.get(f"/complaint/{reference_}")).status_code == 404
        assert (await nobody.get(f"/complaint/{reference_}/created")).status_code == 404


async def test_a_browser_asking_for_the_old_form_goes_to_the_question_pages(stack: Stack) -> None:
    """Issue 30: one journey for every resident, one question a page: an old link or bookmark to the one-page
    form takes a browser to the question pages (with the council it named), never to the 20-question page."""
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    async with stack.client() as client:
        plain = await client.get("/complaint/new", headers=browser)
        assert plain.status_code == 303 and plain.headers["location"] == "/complaint/make"
        chosen = await client.get("/complaint/new?policy_id=bexley", headers=browser)
        assert chosen.status_code == 303 and chosen.headers["location"] == "/complaint/make?policy_id=bexley"
        unknown = await client.get("/complaint/new?policy_id=nowhere", headers=browser)
        assert unknown.headers["location"] == "/complaint/make"
        # Any client: the one-page form is gone, and nothing makes a complaint at its address.
        other = await client.get("/complaint/new", headers={"Accept": "*/*"})
        assert other.status_code == 303 and other.headers["location"] == "/complaint/make"
        email = new_email()
        old_form = {"policy_id": "bexley", "on_behalf": "no", "name": "Ada", "email": email}
        posted = await client.post("/complaint/new", data=old_form | {"summary": "Bins not collected."})
        assert posted.status_code in (404, 405)
        made = "SELECT count(*) FROM complaints WHERE complainant->>'email' = $1"
        assert await stack.pool.fetchval(made, email) == 0
        first = await client.get(chosen.headers["location"])
        assert first.status_code == 303  # the question pages start a draft, then ask the first question
        question = await client.get(first.headers["location"])
        assert question.status_code == 200 and "Who is the complaint for?" in question.text
        assert "Send complaint" not in question.text


async def test_the_start_page_names_the_next_stage_as_the_council_does(stack: Stack) -> None:
    """Issue 30: one name per stage, the policy's own, as on the tracking pages: never "ask for a review"."""
    async with stack.client() as client:
        bexley = (await client.get("/?policy_id=bexley")).text
        assert "take your complaint to Review if you are not happy with our response" in bexley
        council_004 = (await client.get("/?policy_id=council-004")).text
        assert "take your complaint to Stage Two if you are not happy with our response" in council_004
        general = (await client.get("/")).text
        assert "take your complaint to the next stage if you are not happy with our response" in general
        for page in (bexley, council_004, general):
            assert "ask for a review" not in page


async def test_too_many_wrong_codes_is_a_429_page_and_the_right_code_still_works(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        for _ in range(stack.settings.resident_wrong_codes_per_reference):
            wrong = await client.post("/complaint/track", data={"reference": reference, "token": "z" * 43})
            assert wrong.status_code == 404
            assert "We could not find a complaint" in wrong.text
        limited = await client.post("/complaint/track", data={"reference": reference, "token": "z" * 43})
        assert limited.status_code == 429
        assert "Too many attempts" in limited.text and "a right code works at any time" in limited.text
        assert int(limited.headers["retry-after"]) > 0
        signed = await client.post("/complaint/track", data={"reference": reference, "token": token})
        assert signed.status_code == 303 and signed.headers["location"] == f"/complaint/{reference}"


async def test_the_session_cookie_is_secure_by_setting_and_ends_on_sign_out(stack: Stack) -> None:
    app = stack.app_with(cookie_secure=True)
    async with stack.client(app=app) as client:
        reference, token = await make(client)
        response = await client.post("/complaint/track", data={"reference": reference, "token": token})
        cookie = response.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        session = cookie.split(";")[0].split("=", 1)[1]
    async with stack.client() as client:
        client.cookies.set(COOKIE, session, path="/complaint")
        assert (await client.get(f"/complaint/{reference}")).status_code == 200
        out = await client.post("/complaint/sign-out")
        assert out.status_code == 303
    async with stack.client() as client:
        # The same cookie, kept (a shared computer), no longer opens anything.
        client.cookies.set(COOKIE, session, path="/complaint")
        ended = await client.get(f"/complaint/{reference}")
        assert ended.status_code == 404 and "You are signed out" in ended.text


async def test_new_link_page_answers_the_same_either_way(stack: Stack) -> None:
    async with stack.client() as client:
        email = new_email()
        reference, _ = await make(client, email=email)
        right = await client.post("/complaint/new-link", data={"reference": reference, "email": email})
        wrong = await client.post(
            "/complaint/new-link", data={"reference": reference, "email": "x@example.org"}
        )
        assert right.status_code == wrong.status_code == 200
        assert "If this e-mail address is on the complaint" in right.text
        assert right.text.replace(email, "") == wrong.text.replace("x@example.org", "")
        invalid = await client.post("/complaint/new-link", data={"reference": reference, "email": "nope"})
        assert invalid.status_code == 422 and "There is a problem" in invalid.text


async def test_the_same_complaint_form_sent_twice_makes_one_complaint(stack: Stack) -> None:
    async with stack.client() as client:
        summary = f"Street light out on Elm Road, ticket {random.randrange(10**9)}."
        given = answers(service_area="general", summary=summary)
        assert (await walk(client, given)).status_code == 200
        # A double click on "Send complaint": the second comes while the first is still making the complaint.
        sent = await asyncio.gather(*(send(client) for _ in range(2)))
        assert [answer.status_code for answer in sent] == [200, 200], sent[1].text
        references = {reference_of(answer.text) for answer in sent}
        codes = {access_code_of(answer.text) for answer in sent}
        assert (
            len(references) == 1 and len(codes) == 2 and None not in codes
        )  # one complaint; each code works
        made = await stack.pool.fetchval("SELECT count(*) FROM complaints WHERE summary = $1", summary)
        assert made == 1
        # Sent, the answers can no longer be changed: a change after Back is told to start again.
        late = await post_page(client, "what-happened", {"summary": summary + " Two now."})
        assert late.status_code == 410
        # Started again, changed and sent: that is another complaint.
        changed = await make_on_pages(client, given | {"summary": summary + " Two now."})
        assert changed.status_code == 200
        assert reference_of(changed.text) not in references


async def test_an_information_the_workflow_could_not_record_is_not_called_a_missing_date(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 422 on the information form (the workflow refused to record it: 'Unrecordable') is said as the
    workflow's reason on the information box, not as the extension form's missing date."""

    async def unrecordable(*_: object) -> None:
        raise ProblemError(422, "Invalid request", "this action could not be recorded: too long")

    async with stack.client() as client:
        reference, token = await make(client)
        session = await signed_in(client, reference, token)
        monkeypatch.setattr(resident_actions, "send_information", unrecordable)
        refused = await client.post(
            f"/complaint/{reference}/information", data={"summary": "More", "form_key": form_key(session)}
        )
        assert refused.status_code == 422
        assert "this action could not be recorded: too long" in refused.text
        assert "latest date you agree to" not in refused.text
