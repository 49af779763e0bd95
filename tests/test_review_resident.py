"""A resident's-side review (issue: independent review): defects a resident, a representative or a hostile
tester would meet on the resident pages, each pinned by the test that found it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from api.resident import access
from core.services import Services
from core.temporal import RequestDeadline, connect
from devstack.servers import free_port
from domain import commands as cmd
from domain.policy import Policy
from notifications.render import format_date
from tests.api_helpers import bearer, complaint_body, settings_for
from tests.factories import INVESTIGATOR, OFFICER
from tests.make_journey import answers, error_summary, make_on_pages, post_page, reference_of, send, walk
from tests.test_outages import app_client
from tests.test_resident_journeys import asked_to_agree_a_later_response, form_key_of
from tests.test_residents import Stack, make, settled, stack
from tests.test_residents_pages import signed_in
from tests.test_trust_uploads import EICAR, clamd

__all__ = ["clamd", "stack"]  # the fixtures, imported so pytest finds them here


async def test_a_date_no_calendar_has_is_a_clear_error_not_a_server_error(stack: Stack) -> None:
    """The extension answer's date boxes: a year of twenty digits, or a superscript digit (which Python
    calls a digit but cannot read as a number), is a date to correct, never a 500."""
    async with stack.client() as client:
        reference, _ = await asked_to_agree_a_later_response(stack, client)
        key = form_key_of((await client.get(f"/complaint/{reference}")).text)
        for day, month, year, message in (
            ("1", "2", "9" * 20, "The latest date must be a real date"),
            ("1", "2", "99999", "The latest date must be a real date"),
            ("1", "²", "2027", "The latest date must include a day, month and year"),
            ("1", "2", "2150", "The latest date must be Thursday 31 December 2099 or before"),
        ):
            sent = {
                "form_key": key,
                "agreed": "yes",
                "up_to-day": day,
                "up_to-month": month,
                "up_to-year": year,
            }
            response = await client.post(f"/complaint/{reference}/extension", data=sent)
            assert response.status_code == 422, (year, response.status_code)
            assert error_summary(response.text) == {"up_to-day": message}, year


async def test_a_file_the_virus_scanner_refuses_is_not_called_empty(stack: Stack, clamd: str) -> None:
    """The evidence form: the scanner's refusal said "The selected file is empty"."""
    app = stack.app_with(clamd_address=clamd)
    async with stack.client(app=app) as client:
        reference, token = await make(client)
        await settled(stack, reference)
        await signed_in(client, reference, token)
        key = form_key_of((await client.get(f"/complaint/{reference}")).text)
        for content, message in (
            (EICAR, "The selected file contains a virus"),
            (b"", "The selected file is empty"),
        ):
            sent = await client.post(
                f"/complaint/{reference}/evidence",
                data={"form_key": key},
                files={"file": ("photo.txt", content, "text/plain")},
            )
            assert sent.status_code == 422
            assert error_summary(sent.text) == {"file": message}


async def test_an_outage_or_an_address_that_is_no_page_is_a_page_not_json(
    pool: asyncpg.Pool, policies: dict[str, Policy]
) -> None:
    """A resident pressing "Send complaint" while Temporal is down was shown the API's problem+json as code,
    and their answers were then called deleted when they went back; an address that is no page, or a link
    cut or mangled past a limit, was JSON too. Each is now a GOV.UK page with the same status (and
    Retry-After), and the answers stay to send again."""
    settings = settings_for("nowhere")
    temporal = await connect(f"127.0.0.1:{free_port()}", lazy=True, interceptors=[RequestDeadline(2.0)])
    async with app_client(pool, temporal, policies, settings) as client:
        checking = await walk(client, answers())
        assert checking.status_code == 200, checking.text[:2000]
        sent = await send(client)
        assert sent.status_code == 503
        assert sent.headers["content-type"].startswith("text/html")
        assert int(sent.headers["retry-after"]) > 0
        assert "Sorry, there is a problem with the service" in sent.text
        assert "<title>Sorry, there is a problem with the service - Council complaints</title>" in sent.text
        # Back from the problem page: the answers are still there, to send again.
        back = await client.get("/complaint/make/letters")
        assert back.status_code == 200 and "What format should our letters be in?" in back.text
        assert (await client.get("/complaint/make/check")).status_code == 200

        for path in (
            "/complaint/CMP-2026-000001/letters/1",
            "/complaint/track?reference=" + "A" * 41,
            "/privacy?policy_id=" + "b" * 61,
        ):
            page = await client.get(path)
            assert page.headers["content-type"].startswith("text/html"), path
            assert page.status_code in (404, 422), path
            assert "There is a problem" in page.text or "Page not found" in page.text, path
        # The JSON API keeps its problem+json.
        api = await client.get("/api/public/nowhere")
        assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


async def test_a_date_that_has_passed_is_not_promised_again(stack: Stack) -> None:
    """A complaint logged late (received 60 days ago, as a letter found in a pile) and acknowledged: its
    response date has passed. The page said "We will send you our response by <that date>" and "We will
    respond by <that date>", a promise already broken; it now says the date passed and that we are sorry,
    as the response_late letter does. The acknowledgement date likewise."""
    services: Services = stack.app.state.services
    received = datetime.now(UTC) - timedelta(days=60)
    async with stack.client() as client:
        for acknowledged in (False, True):
            created = await client.post(
                "/api/complaints",
                json=complaint_body(received_at=received.isoformat()),
                headers=bearer("olivia.officer", stack.settings),
            )
            assert created.status_code == 201, created.text
            reference = created.json()["reference"]
            await settled(stack, reference)
            if acknowledged:
                await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
            code, _ = await access.issue_access_code(services, reference)
            await signed_in(client, reference, code)
            page = (await client.get(f"/complaint/{reference}")).text
            status = page.split('id="status-text">', 1)[1].split("</p>", 1)[0]
            due = "respond_by" if acknowledged else "acknowledge_by"
            day = await stack.pool.fetchval(f"SELECT {due} FROM complaints WHERE reference = $1", reference)
            assert day < datetime.now(UTC).date()
            promised = "send you our response" if acknowledged else "acknowledge it"
            assert f"We will {promised} by {format_date(day)}" not in status, status
            assert f"We said we would {promised} by {format_date(day)}. We are sorry it is late." in status
            assert (
                "We will respond by" not in page
                and "We will acknowledge it by"
                not in page.split('class="govuk-summary-list"', 1)[1].split("</dl>", 1)[0]
            )


async def test_changing_who_the_complaint_is_for_asks_the_questions_it_changes(stack: Stack) -> None:
    """A carer who first answered "Me" (and gave their own name and e-mail address under "What is your full
    name?") then changed "Who is the complaint for?" to someone else was asked only about themselves and sent
    back to "Check your answers": their own name and address went in silently as the other person's. A change
    that changes what the later questions mean now walks through them again, answers kept to correct."""
    async with stack.client() as client:
        checking = await walk(client, answers(name="Carer Person", email="carer@example.org"))
        assert checking.status_code == 200
        changed = await post_page(client, "who-for?change=1", {"on_behalf": "yes"})
        assert changed.headers["location"] == "/complaint/make/council"
        details = {"representative_name": "Carer Person", "representative_email": "carer@example.org"}
        kind = {"representative_kind": "family", "representative_relationship": "daughter"}
        for slug, data, then in (
            ("council", {"policy_id": "bexley"}, "your-details"),
            ("your-details", details, "about-you"),
            ("about-you", kind, "consent"),
            ("consent", {"representative_consent": "yes"}, "name"),
        ):
            sent = await post_page(client, slug, data)
            assert sent.headers["location"] == f"/complaint/make/{then}", slug
        page = await client.get("/complaint/make/name")
        assert "What is the full name of the person the complaint is for?" in page.text
        assert 'value="Carer Person"' in page.text  # kept, to correct
        sent = await post_page(client, "name", {"name": "Mum Person"})
        assert sent.headers["location"] == "/complaint/make/contact"
        # A change that changes no later question still goes straight back to checking.
        again = await post_page(client, "what-happened?change=1", {"summary": "The damp is worse."})
        assert again.headers["location"] == "/complaint/make/check"


async def test_the_confirmation_says_until_when_the_access_code_works(stack: Stack) -> None:
    """The access code stops working after 90 days, but the confirmation said only "To see your complaint
    later, sign in with ... this access code" and "write it down": a resident without e-mail found it dead
    months later with nothing having said so. The page now gives its last day and what to do after."""
    async with stack.client() as client:
        sent = await make_on_pages(client, answers(email="", phone="07700 900 982"))
        assert sent.status_code == 200 and "Complaint received" in sent.text
        expires = await stack.pool.fetchval(
            "SELECT max(expires_at) FROM resident_tokens WHERE reference = $1 AND kind = 'access'",
            reference_of(sent.text),
        )
        last_day = expires.astimezone(ZoneInfo("Europe/London")).date()
        text = " ".join(sent.text.split())
        assert f"The code works until {format_date(last_day)}." in text
        assert "contact the council's complaints team" in text


async def test_letters_left_for_the_post_are_on_the_complaint_page(stack: Stack) -> None:
    """A resident with no e-mail address made the complaint online and signs in with the access code. Every
    letter to them is left for the post (the outbox marks it skipped, "send by post"), and the page left all
    of them out: "Letters and e-mails we have sent you: None yet." after the acknowledgement, and the
    council's question missing under "We have asked you for more information" (only the general form)."""
    async with stack.client() as client:
        sent = await make_on_pages(client, answers(email="", phone="07700 900 982"))
        assert sent.status_code == 200, sent.text[:2000]
        reference = reference_of(sent.text)
        await settled(stack, reference)
        await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await stack.staff(reference, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
        question = "Please tell us which rooms have damp."
        await stack.staff(
            reference, "request_information", cmd.RequestInformation(actor=INVESTIGATOR, request=question)
        )
        posted = "SELECT count(*) FROM notifications WHERE reference = $1 AND audience = 'complainant'"
        for _ in range(250):
            if await stack.pool.fetchval(posted + " AND status = 'skipped'", reference) >= 2:
                break
            await asyncio.sleep(0.02)
        page = (await client.get(f"/complaint/{reference}")).text
        letters = page.split('id="letters"', 1)[-1]
        assert "None yet." not in page.split("Letters and e-mails we have sent you", 1)[1][:200]
        assert "We have received your complaint" in letters or "Read the letter" in letters
        assert "by post" in letters
        assert "We need more information from you" in page and question in page


async def test_a_link_cannot_put_words_of_its_own_on_the_councils_page(stack: Stack) -> None:
    """The e-mailed link's page printed its `reference` as given: "Open your complaint CALL 0906 123 4567 NOW"
    on the council's own site, from a link anyone can write. A reference that is not one is not shown: the
    sign-in form instead."""
    async with stack.client() as client:
        spoof = await client.get(
            "/complaint/track", params={"reference": "CALL 0906 123 4567 NOW", "code": "x"}
        )
        assert spoof.status_code == 200 and "0906" not in spoof.text
        assert 'name="token"' in spoof.text  # the sign-in form
        real = await client.get("/complaint/track", params={"reference": "CMP-2026-000123", "code": "x"})
        assert "Open your complaint CMP-2026-000123" in real.text


async def test_a_reference_typed_with_spaces_signs_in(stack: Stack) -> None:
    """The access code is accepted with or without its dashes, in any case; the reference only in small
    letters. Read off a letter or over the phone it is often typed "CMP 2026 000123" (or with an en dash
    pasted from a document), which was "We could not find a complaint" and counted as a wrong code."""
    async with stack.client() as client:
        reference, token = await make(client)
        for typed in (reference.replace("-", " "), " " + reference.replace("-", "\u2013").lower() + " "):
            client.cookies.clear()
            signed = await client.post("/complaint/track", data={"reference": typed, "token": token})
            assert signed.status_code == 303, (typed, signed.status_code)
            assert signed.headers["location"] == f"/complaint/{reference}"
