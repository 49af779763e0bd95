"""Contact restrictions on the real stack (issue 16): decided by a manager on one complaint, applied to every
complaint of the same person on the resident channels the decision names, never to following a complaint or
asking for the next stage, and lifted by a manager (audited in the event trail)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import httpx

from api.resident.tokens import hash_token
from core.services import Services
from domain import commands as cmd
from domain.deadlines import plan_stage
from domain.models import ResidentChannel
from domain.policy import Policy
from notifications.delivery import deliver_one
from tests.api_helpers import CapturingSender, assert_problem, bearer, send_latest_link
from tests.factories import MANAGER, OFFICER
from tests.make_journey import answers, make_on_pages, reference_of
from tests.test_residents import Stack, auth, make, new_email, responded, stack

__all__ = ["stack"]  # the fixture, imported so pytest finds it here


def restriction(*channels: ResidentChannel) -> cmd.RestrictContact:
    """A manager's restriction of these channels for the next 90 days, reviewed in 30."""
    return cmd.RestrictContact(
        actor=MANAGER,
        reason="Repeated abusive messages to the team.",
        until=date.today() + timedelta(days=90),
        review_on=date.today() + timedelta(days=30),
        channels=list(channels),
    )


async def test_a_restriction_closes_the_named_channels_for_every_complaint_of_the_person(
    stack: Stack,
) -> None:
    email = new_email()
    async with stack.client() as client:
        first, first_token = await make(client, email=email)
        second, second_token = await make(client, email=email.upper())  # the same person, however typed
        other, other_token = await make(client)  # someone else
        await stack.staff(first, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await stack.staff(
            first,
            "restrict_contact",
            restriction(ResidentChannel.MESSAGES, ResidentChannel.NEW_COMPLAINTS),
        )
        message = {"summary": "Another message."}
        for reference, token in ((first, first_token), (second, second_token)):
            refused = await client.post(
                f"/api/public/complaints/{reference}/information", json=message, headers=auth(token)
            )
            problem = assert_problem(refused, 403)
            assert problem["type"] == "contact-restricted"
            assert "ask for the next stage" in problem["detail"] and "by post" in problem["detail"]
        # Uploads were not named in the decision: they stay open; so does following the complaint.
        upload = await client.post(
            f"/api/public/complaints/{second}/attachments",
            files={"file": ("letter.pdf", b"%PDF-1.4 the letter", "application/pdf")},
            headers=auth(second_token),
        )
        assert upload.status_code == 201, upload.text
        view = await client.get(f"/api/public/complaints/{second}", headers=auth(second_token))
        assert view.status_code == 200
        # A new online complaint from the same address opens nothing online; another person's is not affected.
        # (Anyone can type an address there: issue 29 (11), the answer is the one any complaint gets.)
        await _held_like_any_complaint(stack, client, email)
        sent = await client.post(
            f"/api/public/complaints/{other}/information", json=message, headers=auth(other_token)
        )
        assert sent.status_code == 200, sent.text

        # The manager lifts it: every channel opens again, and the lift is on the record.
        await stack.staff(
            first, "lift_contact_restriction", cmd.LiftContactRestriction(actor=MANAGER, reason="Reviewed.")
        )
        sent = await client.post(
            f"/api/public/complaints/{second}/information", json=message, headers=auth(second_token)
        )
        assert sent.status_code == 200, sent.text
    lifted = await stack.pool.fetchrow(
        "SELECT lifted_by, channels FROM contact_restrictions WHERE reference = $1", first
    )
    assert (
        lifted is not None
        and lifted["lifted_by"] == MANAGER.id
        and lifted["channels"] == ["messages", "new_complaints"]
    )
    actions = await stack.pool.fetch(
        "SELECT action FROM complaint_events WHERE reference = $1 ORDER BY seq", first
    )
    assert [row["action"] for row in actions][-2:] == ["restrict_contact", "lift_contact_restriction"]
    letters = await stack.pool.fetch(
        "SELECT template FROM notifications WHERE reference = $1 AND audience = 'complainant'", first
    )
    assert {"contact_restriction", "contact_restriction_lifted"} <= {row["template"] for row in letters}


async def _held_like_any_complaint(stack: Stack, client: httpx.AsyncClient, email: str) -> None:
    """Issue 29 (11): a restricted address gets the same answer as anyone, and its reference and code open
    what any complaint just received shows (the API's view, the pages), until an officer decides. Nothing is
    opened online: the submission waits in the triage queue flagged contact_restricted, with what was sent on
    it since; the complaint the officer opens from it keeps the reference, and the code opens it."""
    held = await client.post("/api/public/complaints", json=_complaint(email) | {"summary": "Held one."})
    normal = await client.post(
        "/api/public/complaints", json=_complaint(new_email()) | {"summary": "Held one."}
    )
    assert held.status_code == normal.status_code == 201, held.text
    held_answer, normal_answer = held.json(), normal.json()
    assert held_answer.keys() == normal_answer.keys()
    assert re.fullmatch(r"[A-Z]+-\d{4}-\d+", held_answer["reference"])
    assert len(held_answer["access_token"]) == len(normal_answer["access_token"])
    assert _masked(held_answer, held_answer) == _masked(normal_answer, normal_answer)
    assert held.headers.keys() == normal.headers.keys()
    reference, code = held_answer["reference"], held_answer["access_token"]
    # No complaint behind the held answer, and only the code's hash is kept.
    assert await stack.pool.fetchval("SELECT count(*) FROM complaints WHERE reference = $1", reference) == 0
    # Its credentials are those of any complaint made online (the code, and the e-mail's link and code).
    kinds = "SELECT kind, token_hash FROM resident_tokens WHERE reference = $1 ORDER BY kind"
    stored = await stack.pool.fetch(kinds, reference)
    assert hash_token(code) in [row["token_hash"] for row in stored]
    assert [row["kind"] for row in stored] == [
        row["kind"] for row in await stack.pool.fetch(kinds, normal_answer["reference"])
    ]

    # Its e-mail goes out as any complaint's (greeting the person, with a link and a second code that work).
    queued = await stack.pool.fetchval(
        "SELECT id FROM notifications WHERE reference IS NULL AND template = 'access_link'"
        " AND context->>'reference' = $1",
        reference,
    )
    sender = CapturingSender()
    services: Services = stack.app.state.services
    assert await deliver_one(stack.pool, sender, services.policies, queued) == "sent"
    [e_mail] = sender.messages
    assert e_mail.to_address == email and "Ada Resident" in e_mail.text
    e_mailed_code = re.search(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b", e_mail.text)
    assert e_mailed_code is not None
    by_e_mail = await client.get(f"/api/public/complaints/{reference}", headers=auth(e_mailed_code[0]))
    assert by_e_mail.status_code == 200 and by_e_mail.json()["status"] == "received"
    await send_latest_link(stack.pool, normal_answer["reference"])  # the normal one's e-mail too

    # The code opens a complaint just received: the same JSON, headers and dates as any complaint's.
    seen, fresh = await _both(client, "GET", held_answer, normal_answer)
    assert seen.status_code == fresh.status_code == 200, seen.text
    assert seen.headers.keys() == fresh.headers.keys()
    view = seen.json()
    assert view["status"] == "received" and view["summary"] == "Held one."
    planned = plan_stage(stack_policy(stack, "bexley"), 1, datetime.now(UTC))
    assert view["dates"]["acknowledge_by"] == planned.acknowledge_by.isoformat()
    assert _masked(view, held_answer) == _masked(fresh.json(), normal_answer)
    # The pages too: signed in with the reference and the code, the complaint's page is the same page.
    held_page, normal_page = await _page(stack, held_answer), await _page(stack, normal_answer)
    assert _page_masked(held_page, held_answer) == _page_masked(normal_page, normal_answer)

    # Information and evidence are accepted as on any complaint, and kept with the triage item.
    told, told_fresh = await _both(
        client, "POST", held_answer, normal_answer, "/information", json={"summary": "The ceiling fell in."}
    )
    assert told.status_code == told_fresh.status_code == 200, told.text
    assert _masked(told.json(), held_answer) == _masked(told_fresh.json(), normal_answer)
    photo = {"file": ("ceiling.jpg", b"\xff\xd8\xff\xe0 the ceiling", "image/jpeg")}
    sent, sent_fresh = await _both(client, "POST", held_answer, normal_answer, "/attachments", files=photo)
    assert sent.status_code == sent_fresh.status_code == 201, sent.text
    assert sent.json().keys() == sent_fresh.json().keys()
    # What a received complaint refuses is refused in the same words (the next stage, an investigation
    # where the policy has no early-resolution step).
    for path, body in (("/escalation", {"reasons": "Not good enough."}), ("/investigation", None)):
        refused, refused_fresh = await _both(client, "POST", held_answer, normal_answer, path, json=body)
        assert refused.status_code == refused_fresh.status_code == 409, refused_fresh.text
        assert _masked(refused.json(), held_answer) == _masked(refused_fresh.json(), normal_answer)

    await _form_confirmation(stack, email)

    # Staff see it in triage, flagged, with what was sent since; the audit trail holds codes only.
    officer = bearer("olivia.officer", stack.settings)
    queue = await client.get("/api/triage?limit=500", headers=officer)
    assert queue.status_code == 200, queue.text
    theirs = [item for item in queue.json() if item["sender"] == email.lower()]
    assert len(theirs) == 2  # the API's and the form's
    items = [item for item in theirs if item["text_start"].startswith("Held one.")]
    assert len(items) == 1
    assert items[0]["flag"] == "contact_restricted" and items[0]["text_start"].startswith("Held one.")
    assert items[0]["flag_text"] == "the sender's online contact is restricted"
    assert f"answered as {reference}" in items[0]["subject"]  # what the officer may write about
    assert [item["filename"] for item in items[0]["attachments"]] == ["ceiling.jpg"]
    whole = await client.get(f"/api/triage/{items[0]['id']}", headers=officer)
    assert "The ceiling fell in." in str(whole.json())
    audit = await stack.pool.fetch(
        "SELECT after::text AS after FROM audit_log WHERE action LIKE 'held_%' AND after->>'inbound_id' = $1",
        items[0]["id"],
    )
    assert len(audit) == 2 and not any("ceiling" in row["after"] or email in row["after"] for row in audit)

    # The officer decides: opened from the item, it is a web complaint of the person who sent the form,
    # under the same reference, with the information and the evidence; the resident's code opens it.
    opened = await client.post(
        f"/api/triage/{items[0]['id']}/open-complaint",
        json={"policy_id": "bexley", "service_area": "housing-repairs"},
        headers=officer,
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["reference"] == reference
    case = (await client.get(f"/api/complaints/{reference}", headers=officer)).json()
    assert case["channel"] == "web" and case["complainant"]["name"] == "Ada Resident"
    assert case["summary"].startswith("Held one.") and "The ceiling fell in." in case["summary"]
    assert [item["filename"] for item in case["attachments"]] == ["ceiling.jpg"]
    letters = "SELECT template FROM notifications WHERE reference = $1 AND audience = 'complainant'"
    assert {"access_link", "complaint_copy"} <= {
        row["template"] for row in await stack.pool.fetch(letters, reference)
    }
    now_open = await client.get(f"/api/public/complaints/{reference}", headers=auth(code))
    assert now_open.status_code == 200 and now_open.json()["summary"] == case["summary"]
    assert "Held one." in await _page(stack, held_answer)  # and signs in to its page

    # Another one, dismissed: its reference says what the council did, and offers nothing more.
    other = await client.post("/api/public/complaints", json=_complaint(email) | {"summary": "Held two."})
    other_answer = other.json()
    queue = await client.get("/api/triage?limit=500", headers=officer)
    item = next(
        item
        for item in queue.json()
        if item["sender"] == email.lower() and item["text_start"].startswith("Held two.")
    )
    dismissed = await client.post(
        f"/api/triage/{item['id']}/dismiss", json={"reason": "Repeats a complaint answered."}, headers=officer
    )
    assert dismissed.status_code in (200, 204), dismissed.text
    decided = await client.get(
        f"/api/public/complaints/{other_answer['reference']}", headers=auth(other_answer["access_token"])
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "declined"
    assert "not taking it forward as a new complaint" in decided.json()["status_text"]
    assert not any(decided.json()["possible"].values())
    # Withdrawn before any decision: withdrawn as any complaint is (the same view and letter).
    # (A form with room for more complaints from one address than the default allowance of a few.)
    async with stack.client(app=stack.app_with(resident_complaints_per_email=100)) as roomy:
        made = [
            await roomy.post("/api/public/complaints", json=_complaint(address) | {"summary": "Held three."})
            for address in (email, new_email())
        ]
        assert [answer.status_code for answer in made] == [201, 201], made[0].text
        third_answer, fresh_answer = made[0].json(), made[1].json()
        reason = {"reason": "Sorted."}
        gone_both = await _both(roomy, "POST", third_answer, fresh_answer, "/withdraw", json=reason)
    assert [answer.status_code for answer in gone_both] == [200, 200], gone_both[0].text
    assert gone_both[0].json()["status"] == "withdrawn"
    assert _masked(gone_both[0].json(), third_answer) == _masked(gone_both[1].json(), fresh_answer)
    # When the retention purge destroys the item, its code and its e-mails go with it.
    await stack.pool.execute("DELETE FROM inbound_messages WHERE id = $1::uuid", item["id"])
    gone = await client.get(
        f"/api/public/complaints/{other_answer['reference']}", headers=auth(other_answer["access_token"])
    )
    assert gone.status_code == 404
    left = "SELECT count(*) FROM notifications WHERE reference IS NULL AND context->>'reference' = $1"
    assert await stack.pool.fetchval(left, other_answer["reference"]) == 0


async def _form_confirmation(stack: Stack, email: str) -> None:
    """On the resident pages' form: the same confirmation page, and the page it signs in to is the page of a
    complaint just received (the held one's session is a real one, for its reference)."""
    seen = []
    for address in (email, new_email()):
        async with stack.client() as browser:
            made = await make_on_pages(browser, answers(email=address, summary="Held four."))
            assert made.status_code == 200, made.text
            found = [reference_of(made.text)]
            page = await browser.get(f"/complaint/{found[0]}")
            assert page.status_code == 200, page.text
            answer = {"reference": found[0], "access_token": "-"}
            confirmation = _page_masked(made.text, answer).replace(address, "EMAIL")
            seen.append((confirmation, _page_masked(page.text, answer)))
    assert seen[0] == seen[1]


def stack_policy(stack: Stack, policy_id: str) -> Policy:
    services: Services = stack.app.state.services
    return services.policies[policy_id]


async def _both(
    client: httpx.AsyncClient,
    method: str,
    held: dict[str, Any],
    normal: dict[str, Any],
    path: str = "",
    **sent: Any,
) -> tuple[httpx.Response, httpx.Response]:
    """The same request on the held reference and on a normal complaint, each with its own code."""
    answers = []
    for answer in (held, normal):
        url = f"/api/public/complaints/{answer['reference']}{path}"
        answers.append(await client.request(method, url, headers=auth(answer["access_token"]), **sent))
    return answers[0], answers[1]


def _masked(value: Any, answer: dict[str, Any]) -> Any:
    """`value` with what differs between two complaints made a moment apart masked: the reference, the code
    and the moments (dates stay: both were made today)."""
    text = json.dumps(value, sort_keys=True).replace(answer["reference"], "REF")
    text = text.replace(answer["access_token"], "CODE")
    return json.loads(re.sub(r"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)?", "MOMENT", text))


async def _page(stack: Stack, answer: dict[str, Any]) -> str:
    """The complaint's page, signed in with the reference and the access code on /complaint/track."""
    async with stack.client() as browser:
        signed = await browser.post(
            "/complaint/track", data={"reference": answer["reference"], "token": answer["access_token"]}
        )
        assert signed.status_code == 303, signed.text
        page = await browser.get(signed.headers["location"])
        assert page.status_code == 200, page.text
        return page.text


def _page_masked(page: str, answer: dict[str, Any]) -> str:
    """The page without what differs per complaint or per request: the reference, the form key, nonces."""
    page = page.replace(answer["reference"], "REF")
    page = re.sub(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b", "CODE", page)  # an access code shown once
    page = re.sub(r'name="submission" value="[^"]+"', 'name="submission" value="SUBMISSION"', page)
    page = re.sub(r'name="form_key" value="[^"]+"', 'name="form_key" value="KEY"', page)
    return re.sub(r'nonce="[^"]+"', 'nonce="NONCE"', page)


async def test_asking_for_the_next_stage_is_never_restricted(stack: Stack) -> None:
    async with stack.client() as client:
        reference, token = await make(client)
        await responded(stack, reference)
        await stack.staff(
            reference,
            "restrict_contact",
            restriction(*ResidentChannel),
        )
        asked = await client.post(
            f"/api/public/complaints/{reference}/escalation",
            json={"reasons": "The damp is back."},
            headers=auth(token),
        )
        assert asked.status_code == 200, asked.text


class Held(NamedTuple):
    """A web submission held for triage: the address it came from, what its sender was answered with, and
    its triage item."""

    email: str
    reference: str
    code: str
    item_id: str


async def held_submission(stack: Stack, client: httpx.AsyncClient, summary: str) -> Held:
    """A person's first complaint, their new online complaints restricted, then a second one from the same
    address: held for triage and answered as any complaint."""
    email = new_email()
    first, _ = await make(client, email=email)
    await stack.staff(first, "acknowledge", cmd.Acknowledge(actor=OFFICER))
    await stack.staff(first, "restrict_contact", restriction(ResidentChannel.NEW_COMPLAINTS))
    held = await client.post("/api/public/complaints", json=_complaint(email) | {"summary": summary})
    assert held.status_code == 201, held.text
    reference, code = held.json()["reference"], held.json()["access_token"]
    item_id = await stack.pool.fetchval(
        "SELECT inbound_id::text FROM held_submissions WHERE reference = $1", reference
    )
    return Held(email, reference, code, item_id)


def _complaint(email: str) -> dict[str, str]:
    return {
        "policy_id": "bexley",
        "name": "Ada Resident",
        "email": email,
        "service_area": "housing-repairs",
        "summary": "Yet another complaint.",
    }


async def test_one_councils_restriction_stays_with_that_council_and_ends_on_its_date(stack: Stack) -> None:
    email = new_email()
    async with stack.client() as client:
        bexley, bexley_token = await make(client, email=email)
        westminster, westminster_token = await make(client, email=email, policy_id="westminster")
        ended, ended_token = await make(client, email=new_email())
        for reference, until in ((bexley, date.today() + timedelta(days=90)), (ended, date.today())):
            await stack.staff(
                reference,
                "restrict_contact",
                cmd.RestrictContact(actor=MANAGER, reason="Abusive calls.", until=until, review_on=until),
            )
        message = {"summary": "Another message."}
        refused = await client.post(
            f"/api/public/complaints/{bexley}/information", json=message, headers=auth(bexley_token)
        )
        assert_problem(refused, 403)
        # Westminster decided nothing: the same person's complaint there is not restricted.
        sent = await client.post(
            f"/api/public/complaints/{westminster}/information", json=message, headers=auth(westminster_token)
        )
        assert sent.status_code == 200, sent.text
        # A restriction ending today still applies today; from tomorrow it does not (the table's own date).
        refused = await client.post(
            f"/api/public/complaints/{ended}/information", json=message, headers=auth(ended_token)
        )
        assert_problem(refused, 403)
        await stack.pool.execute(
            "UPDATE contact_restrictions SET until_on = until_on - 1 WHERE reference = $1", ended
        )
        sent = await client.post(
            f"/api/public/complaints/{ended}/information", json=message, headers=auth(ended_token)
        )
        assert sent.status_code == 200, sent.text


async def test_a_council_004_restriction_that_stops_correspondence_says_no_reply_will_come(
    stack: Stack,
) -> None:
    """council-004 (issue 24): "no further correspondence and/or communication will be entered into until the
    expiration of the agreed time period". The closed channel does not invite a letter by post: it says no
    reply will come until the end date; asking for the next stage stays open."""
    email = new_email()
    async with stack.client() as client:
        reference, token = await make(client, policy_id="council-004", email=email)
        other, other_token = await make(client, policy_id="council-004", email=email)
        await responded(stack, reference)
        decision = restriction(ResidentChannel.MESSAGES).model_copy(update={"stops_correspondence": True})
        await stack.staff(reference, "restrict_contact", decision)
        refused = await client.post(
            f"/api/public/complaints/{reference}/information", json={"summary": "Again."}, headers=auth(token)
        )
        problem = assert_problem(refused, 403)
        assert "We will not reply to further correspondence about this matter until" in problem["detail"]
        assert "by post" not in problem["detail"] and "ask for the next stage" in problem["detail"]
        # The same person's other complaint is another matter: its channel is closed by the restriction, but
        # its letters by post are still answered.
        elsewhere = await client.post(
            f"/api/public/complaints/{other}/information",
            json={"summary": "Other."},
            headers=auth(other_token),
        )
        other_problem = assert_problem(elsewhere, 403)
        assert "about this matter" not in other_problem["detail"] and "by post" in other_problem["detail"]
    stops = await stack.pool.fetchval(
        "SELECT stops_correspondence FROM contact_restrictions WHERE reference = $1", reference
    )
    assert stops is True
