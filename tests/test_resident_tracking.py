"""Following a complaint, as a resident notices it, over real HTTP (issue 30): an access code that can be read
out and typed (short, no look-alikes, any case, with or without dashes) and that the e-mail gives too; the
extension question only when the council has asked it; no closure while the next stage can be asked for; one
name per stage, the policy's."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain import commands as cmd
from domain.policy import Policy
from notifications.delivery import deliver_one
from tests.api_helpers import CapturingSender
from tests.factories import INVESTIGATOR, OFFICER
from tests.make_journey import answers, make_on_pages
from tests.test_residents import Stack, auth, new_email, responded, settled, stack

__all__ = ["stack"]  # the fixture, imported so pytest finds it here

CODE = re.compile(r"[A-HJKMNP-TV-Z2-9]{4}-[A-HJKMNP-TV-Z2-9]{4}-[A-HJKMNP-TV-Z2-9]{4}")


async def made_on_the_form(client: httpx.AsyncClient, email: str) -> tuple[str, str, str]:
    """A complaint made on the pages: its reference, the access code shown and the confirmation's text."""
    made = await make_on_pages(
        client, answers(email=email, service_area="waste", summary="Bins not collected.")
    )
    assert made.status_code == 200, made.text
    reference = re.search(r'<strong id="reference">([^<]+)</strong>', made.text)
    code = re.search(r'<code id="access-code">([^<]+)</code>', made.text)
    assert reference is not None and code is not None
    return reference[1], code[1], made.text


async def sent_access_email(pool: asyncpg.Pool, policies: dict[str, Policy], reference: str) -> str:
    """Send the complaint's last access e-mail as the outbox dispatcher would; the text the resident gets."""
    notification_id = await pool.fetchval(
        "SELECT id FROM notifications WHERE reference = $1 AND template = 'access_link'"
        " ORDER BY created_at DESC, id DESC LIMIT 1",
        reference,
    )
    sender = CapturingSender()
    assert await deliver_one(pool, sender, policies, notification_id) == "sent"
    [message] = sender.messages
    return str(message.text)


async def sign_in(client: httpx.AsyncClient, reference: str, typed: str) -> httpx.Response:
    client.cookies.clear()
    return await client.post("/complaint/track", data={"reference": reference, "token": typed})


async def test_a_short_code_is_typed_in_any_case_with_or_without_dashes(
    stack: Stack, policies: dict[str, Policy]
) -> None:
    async with stack.client() as client:
        email = new_email()
        reference, code, page = await made_on_the_form(client, email)
        assert CODE.fullmatch(code), code
        assert not set(code) & set("01OIL")
        # The page says where else the resident has it, so nobody has to copy it down in a hurry.
        assert f"We have also e-mailed a link to the complaint and an access code to {email}" in page
        assert "not case-sensitive" in page

        # Read out over the phone and typed back: small letters, spaces instead of dashes, none at all.
        for typed in (code.lower(), code.replace("-", " "), code.replace("-", ""), f"  {code.lower()}  "):
            signed = await sign_in(client, reference.lower(), typed)
            assert signed.status_code == 303, (typed, signed.text)
            assert signed.headers["location"] == f"/complaint/{reference}"
        # The code is kept as a hash only: not in clear in any table a subject access export reads.
        bare = code.replace("-", "")
        tokens = await stack.pool.fetch("SELECT * FROM resident_tokens WHERE reference = $1", reference)
        outbox = await stack.pool.fetch("SELECT * FROM notifications WHERE reference = $1", reference)
        assert bare not in str([dict(row) for row in tokens]) and code not in str(
            [dict(row) for row in outbox]
        )

        # The e-mail carries a code of its own (drawn when it is sent): it works, and is nowhere else.
        text = await sent_access_email(stack.pool, policies, reference)
        found = CODE.search(text.split("Your access code:", 1)[1])
        assert found is not None and found[0] != code, text
        assert "/complaint/track" in text and f"Your complaint reference: {reference}" in text
        assert (await sign_in(client, reference, found[0].lower())).status_code == 303
        outbox = await stack.pool.fetch("SELECT context FROM notifications WHERE reference = $1", reference)
        assert found[0] not in str([dict(row) for row in outbox])

        # A wrong code of the same shape is a wrong code (and counted as one), not a near miss.
        wrong = await sign_in(client, reference, "ABCD-EFGH-JKMN")
        assert wrong.status_code == 404
        assert "We could not find a complaint with that reference and access code" in wrong.text


async def test_the_api_takes_the_short_code_as_a_bearer_token_in_any_case(stack: Stack) -> None:
    async with stack.client() as client:
        made = await client.post(
            "/api/public/complaints",
            json={"policy_id": "bexley", "name": "Ada Resident", "email": new_email(), "summary": "Bins."},
        )
        assert made.status_code == 201, made.text
        reference, code = made.json()["reference"], made.json()["access_token"]
        assert CODE.fullmatch(code)
        seen = await client.get(f"/api/public/complaints/{reference}", headers=auth(code.lower()))
        assert seen.status_code == 200 and seen.json()["reference"] == reference


async def ask_for_more_time(stack: Stack, reference: str, reason: str) -> Any:
    respond_by = await stack.pool.fetchval(
        "SELECT respond_by FROM complaints WHERE reference = $1", reference
    )
    up_to = respond_by + timedelta(days=28)
    await stack.staff(reference, "assign", cmd.Assign(actor=OFFICER, assignee=INVESTIGATOR.id))
    ask = cmd.AskExtensionAgreement(actor=INVESTIGATOR, up_to=up_to, reason=reason)
    await stack.staff(reference, "ask_extension_agreement", ask)
    return respond_by, up_to


def form_key_of(page: str) -> str:
    found = re.search(r'name="form_key" value="([^"]+)"', page)
    assert found is not None
    return found[1]


async def test_the_extension_question_shows_only_once_the_council_has_asked(stack: Stack) -> None:
    async with stack.client() as client:
        reference, code, _ = await made_on_the_form(client, new_email())
        await settled(stack, reference)
        await stack.staff(reference, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        page = (await client.get(f"/complaint/{reference}")).text
        assert "Can we send our response later?" not in page and 'name="up_to-day"' not in page
        # Answering a question nobody asked records nothing.
        unasked = await client.post(
            f"/complaint/{reference}/extension", data={"form_key": form_key_of(page), "agreed": "no"}
        )
        assert unasked.status_code == 303 and unasked.headers["location"] == f"/complaint/{reference}"
        events = await stack.pool.fetchval(
            "SELECT count(*) FROM complaint_events WHERE reference = $1"
            " AND action = 'record_extension_agreement'",
            reference,
        )
        assert events == 0

        respond_by, up_to = await ask_for_more_time(stack, reference, "The contractor's survey is in March.")
        page = (await client.get(f"/complaint/{reference}")).text
        question = page.split('id="extension-question"', 1)[1].split("</div>", 1)[0]
        assert "The contractor&#39;s survey is in March." in question
        assert f"{up_to.day} {up_to.strftime('%B')} {up_to.year}" in question
        # A date no later than the current one is refused, with the date it must be after.
        key = form_key_of(page)
        same_day = {"up_to-day": str(respond_by.day), "up_to-month": str(respond_by.month)}
        early = await client.post(
            f"/complaint/{reference}/extension",
            data={"form_key": key, "agreed": "yes", **same_day, "up_to-year": str(respond_by.year)},
        )
        assert early.status_code == 422 and "The latest date must be after" in early.text
        agreed = await client.post(
            f"/complaint/{reference}/extension",
            data={
                "form_key": key,
                "agreed": "yes",
                "up_to-day": str(up_to.day),
                "up_to-month": str(up_to.month),
                "up_to-year": str(up_to.year),
            },
        )
        assert agreed.status_code == 303, agreed.text
        page = (await client.get(agreed.headers["location"])).text
        assert "Thank you. We have recorded your answer." in page
        assert "You agreed to a response by" in page
        # Answered: the question goes, and no past or answered question lingers.
        assert "Can we send our response later?" not in page.split('id="letters"', 1)[0]
        assert 'name="up_to-day"' not in page
        # The letter asking it is on the page, in full.
        assert "Our request for more time to respond" in page.split('id="letters"', 1)[1]


async def test_no_closure_while_the_next_stage_can_be_asked_for(stack: Stack) -> None:
    async with stack.client() as client:
        reference, code, _ = await made_on_the_form(client, new_email())
        await settled(stack, reference)
        await responded(stack, reference)
        # An officer's close while the window is open is refused with the reason: no closure letter.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await stack.staff(reference, "close", cmd.Close(actor=OFFICER, reason="Done."))
        assert "the complainant can ask for Stage 2 until" in str(refused.value.cause)
        page = (await client.get(f"/complaint/{reference}")).text
        status = page.split('id="status-text"', 1)[1].split("</p>", 1)[0]
        assert "closed" not in status.lower()
        assert "Take your complaint to Review" in page
        templates = await stack.pool.fetch(
            "SELECT template FROM notifications WHERE reference = $1 AND audience = 'complainant'", reference
        )
        assert "closure" not in [row["template"] for row in templates]
        # Once they say they do not want it, it can close, and the letter says why in their words.
        closing = cmd.Close(
            actor=OFFICER, reason="You told us the repair is done.", complainant_does_not_want_next_stage=True
        )
        await stack.staff(reference, "close", closing)
        closed = (await client.get(f"/complaint/{reference}")).text
        letters = closed.split('id="letters"', 1)[1]
        assert "You told us that you do not want to take your complaint to the next stage" in letters
        # Closed: nothing more to send, no file upload offered (issue 30).
        assert "Upload file" not in closed and 'name="file"' not in closed
        assert "Send us more information" not in closed


def without_letters(page: str) -> str:
    """The page's own words: the main content without the letters' texts (their own wording)."""
    main = page.split('id="main-content"', 1)[1]
    return re.sub(r'<ul class="govuk-list letters".*?</ul>', "", main, flags=re.DOTALL)


async def test_one_name_per_stage_the_policys(stack: Stack) -> None:
    """Bexley calls Stage 2 "Review": every mention on the pages uses it, not "review", "Stage 2" or a mix."""
    async with stack.client() as client:
        reference, code, _ = await made_on_the_form(client, new_email())
        await settled(stack, reference)
        await responded(stack, reference)
        page = (await client.get(f"/complaint/{reference}")).text
        main = without_letters(page)
        assert "Take your complaint to Review" in main and "Ask for Review by" in main
        assert "ask us to take your complaint to Review until" in main
        assert "a review" not in main and "Stage 2" not in main
        asked = await client.post(
            f"/complaint/{reference}/review",
            data={"form_key": form_key_of(page), "reasons": "", "outcome_wanted": "A survey."},
        )
        assert asked.status_code == 303, asked.text
        page = (await client.get(asked.headers["location"])).text
        main = without_letters(page)
        assert "We have received your request to take your complaint to Review." in main
        assert "accepted" not in main.lower()  # received, not accepted: the council has not decided yet
        assert "Review asked for" in main and 'id="stage">Review<' in main
        assert "a review" not in main and "Stage 2" not in main
