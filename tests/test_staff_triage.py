"""The triage queue in the staff console, over real HTTP (uvicorn) with messages sent over real SMTP: the
menu's count, the queue, a page per item (sender, subject, received, the start of the text, flags,
attachments) and each decision as a plain form (no JavaScript): open a complaint, link, record a next-stage
request (received when the e-mail arrived), service request, dismiss with a reason. The console's role
checks, CSRF and audit."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

import httpx

from tests.api_helpers import bearer
from tests.inbound_helpers import Inbound, complaint, console, eventually, inbound, inbound_row, mail
from tests.staff_console import form_token, sign_in
from web.layout import moment

__all__ = ["console", "inbound"]

JPEG = b"\xff\xd8\xff" + b"leaking roof" * 10


def _text(html: str) -> str:
    """The page's words, without markup or runs of spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def _id(stack: Inbound, message: Any) -> str:
    return str((await inbound_row(stack.pool, message))["id"])


async def test_an_officer_works_the_triage_queue_in_the_console(
    inbound: Inbound, console: httpx.AsyncClient
) -> None:
    stack, client = inbound, console
    reference, _ = await complaint(stack)
    tag = uuid.uuid4().hex[:6]
    stranger = mail(
        sender="Bea Tenant <bea@example.net>",
        subject=f"Leaking roof {tag}",
        text="Water comes through the ceiling of my flat every time it rains.",
        files=[("roof.jpg", "image/jpeg", JPEG)],
    )
    other = mail(
        sender="Carl Advocate <carl@example.net>",
        subject=f"Re: {reference} {tag}",
        text="I write for my mother: the heating is still broken.",
    )
    away = mail(sender="dee@example.net", subject=f"Out of office {tag}", text="I am away until Monday.")
    spam = mail(sender="spam@example.net", subject=f"Cheap watches {tag}", text="Buy now.")
    bins = mail(sender="eve@example.net", subject=f"Missed bin {tag}", text="Please collect my bin.")
    for message in (stranger, other, away, spam, bins):
        await stack.send(message)

    token = await sign_in(client, "olivia.officer")
    queue = await client.get("/staff/triage")
    assert queue.status_code == 200, queue.text
    count = re.search(r'id="count-triage">([\d,+]+)<', queue.text)
    assert count and int(count.group(1).rstrip("+").replace(",", "")) >= 5
    words = _text(queue.text)
    for subject in (
        f"Leaking roof {tag}",
        f"Re: {reference} {tag}",
        f"Out of office {tag}",
        f"Cheap watches {tag}",
    ):
        assert subject in words
    assert "sender does not match" in words and "looks automatic" in words

    # The item's page: who, what, when, the start of the text, its flags and files.
    item = await client.get(f"/staff/triage/{await _id(stack, stranger)}")
    assert item.status_code == 200, item.text
    page = _text(item.text)
    arrived = (await inbound_row(stack.pool, stranger))["received_at"]
    assert "bea@example.net (Bea Tenant)" in page and f"Leaking roof {tag}" in page
    assert "Water comes through the ceiling of my flat" in page and "roof.jpg (image/jpeg" in page
    assert f"Received {moment(arrived)}" in page  # when it arrived, in London time
    for form in ("open", "link", "escalation", "service-request", "dismiss"):
        assert f'id="decide-{form}"' in item.text
    mismatched = _text((await client.get(f"/staff/triage/{await _id(stack, other)}")).text)
    assert (
        "sender does not match" in mismatched
        and f'value="{reference}"' in (await client.get(f"/staff/triage/{await _id(stack, other)}")).text
    )  # the reference it names, ready to link
    assert "looks automatic" in _text((await client.get(f"/staff/triage/{await _id(stack, away)}")).text)

    # Dismiss: without the form token nothing is done; without a reason the form says so; then dismissed.
    spam_id = await _id(stack, spam)
    forged = await client.post(f"/staff/triage/{spam_id}/dismiss", data={"dismiss_reason": "Advertising"})
    assert forged.status_code == 403 and (await inbound_row(stack.pool, spam))["status"] == "triage"
    empty = await client.post(
        f"/staff/triage/{spam_id}/dismiss", data={"csrf_token": token, "dismiss_reason": ""}
    )
    assert empty.status_code == 422 and 'href="#dismiss_reason"' in empty.text
    dismissed = await client.post(
        f"/staff/triage/{spam_id}/dismiss", data={"csrf_token": token, "dismiss_reason": "Advertising"}
    )
    assert dismissed.status_code == 303 and dismissed.headers["location"] == "/staff/triage?done=dismissed"
    row = await inbound_row(stack.pool, spam)
    assert (row["status"], row["decision_reason"], row["decided_by"]) == (
        "dismissed",
        "Advertising",
        "olivia.officer",
    )
    # A second decision on it (another officer's page, opened before): told, nothing done.
    late = await client.post(
        f"/staff/triage/{spam_id}/service-request",
        data={"csrf_token": token, "sr_policy_id": "bexley", "sr_service_area": "waste"},
    )
    assert late.status_code == 409 and "Someone else dealt with this message" in late.text
    assert (
        await stack.pool.fetchval("SELECT count(*) FROM service_requests WHERE inbound_id = $1", row["id"])
        == 0
    )

    # Open a complaint: the service area missing is explained at its field; then opened, as received.
    stranger_id = await _id(stack, stranger)
    missing = await client.post(
        f"/staff/triage/{stranger_id}/open",
        data={"csrf_token": token, "open_policy_id": "bexley", "open_name": "Bea Tenant"},
    )
    assert missing.status_code == 422 and 'href="#open_service_area"' in missing.text
    opened = await client.post(
        f"/staff/triage/{stranger_id}/open",
        data={
            "csrf_token": token,
            "open_policy_id": "bexley",
            "open_service_area": "housing-repairs",
            "open_name": "Bea Tenant",
        },
    )
    assert opened.status_code == 303, opened.text
    new_reference = opened.headers["location"].split("/")[-1].split("?")[0]
    case = (
        await stack.client.get(
            f"/api/complaints/{new_reference}", headers=bearer("olivia.officer", stack.settings)
        )
    ).json()
    assert (case["channel"], case["complainant"]["email"]) == ("email", "bea@example.net")
    assert datetime.fromisoformat(case["received_at"]) == arrived
    assert [file["filename"] for file in case["attachments"]] == ["roof.jpg"]
    assert (await client.get(opened.headers["location"])).status_code == 200

    # Link the advocate's message to the complaint it names.
    other_id = await _id(stack, other)
    unknown = await client.post(
        f"/staff/triage/{other_id}/link", data={"csrf_token": token, "link_reference": "CMP-2026-999999"}
    )
    assert unknown.status_code == 422 and "There is no complaint with that reference" in unknown.text
    linked = await client.post(
        f"/staff/triage/{other_id}/link", data={"csrf_token": token, "link_reference": reference}
    )
    assert linked.status_code == 303, linked.text

    async def information() -> Any:
        return await stack.pool.fetchval(
            "SELECT count(*) FROM complaint_events WHERE reference = $1 AND action = 'add_information'",
            reference,
        )

    assert await eventually(information, "the linked message reaches the complaint") == 1

    # A service request, in the register.
    bins_id = await _id(stack, bins)
    recorded = await client.post(
        f"/staff/triage/{bins_id}/service-request",
        data={"csrf_token": token, "sr_policy_id": "bexley", "sr_service_area": "waste"},
    )
    assert recorded.status_code == 303
    register = await stack.pool.fetchrow(
        "SELECT policy_id, service_area, status FROM service_requests WHERE inbound_id = $1",
        uuid.UUID(bins_id),
    )
    assert register is not None and tuple(register) == ("bexley", "waste", "open")

    # Each view and decision is in the audit trail, without the message's words.
    trail = await stack.pool.fetch(
        "SELECT action, after FROM audit_log WHERE actor_id = 'olivia.officer' AND action LIKE 'triage%'"
        " AND (after ->> 'inbound_id' = ANY($1::text[]) OR action = 'triage_list')",
        [spam_id, stranger_id, other_id, bins_id],
    )
    actions = {row["action"] for row in trail}
    assert {
        "triage_list",
        "triage_read",
        "triage_dismiss",
        "triage_open_complaint",
        "triage_link",
        "triage_service_request",
    } <= actions
    assert "Advertising" not in json.dumps([row["after"] for row in trail], default=str)
    assert "bea@example.net" not in json.dumps([row["after"] for row in trail], default=str)


async def test_the_next_stage_request_is_recorded_from_the_console_as_received_when_the_email_came(
    inbound: Inbound, console: httpx.AsyncClient
) -> None:
    stack, client = inbound, console
    reference, address = await complaint(stack)
    for user, action, body in [
        ("olivia.officer", "acknowledge", {}),
        ("olivia.officer", "assign", {"assignee": "ian.investigator"}),
        ("ian.investigator", "respond", {"outcome": "not_upheld", "findings": "On time."}),
    ]:
        answer = await stack.client.post(
            f"/api/complaints/{reference}/{action}", json=body, headers=bearer(user, stack.settings)
        )
        assert answer.status_code == 200, answer.text
    message = mail(
        sender=address,
        to=f"complaints+{reference}@council.example",
        subject="Not happy",
        text="Please escalate my complaint to stage 2.",
    )
    await stack.send(message)
    row = await inbound_row(stack.pool, message)
    token = await sign_in(client, "olivia.officer")
    page = await client.get(f"/staff/triage/{row['id']}")
    assert "asks for the next stage" in _text(page.text)
    recorded = await client.post(
        f"/staff/triage/{row['id']}/escalation",
        data={
            "csrf_token": form_token(page.text),
            "esc_reference": reference,
            "esc_outcome_wanted": "A survey.",
        },
    )
    assert token and recorded.status_code == 303, recorded.text
    detail = await stack.pool.fetchval(
        "SELECT detail FROM complaint_events WHERE reference = $1 AND action = 'request_escalation'",
        reference,
    )
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert datetime.fromisoformat(detail["received_at"]) == row["received_at"]
    assert (await inbound_row(stack.pool, message))["status"] == "escalation_recorded"


async def test_only_officers_and_managers_see_triage(inbound: Inbound, console: httpx.AsyncClient) -> None:
    stack, client = inbound, console
    message = mail(sender="fay@example.net", subject="A question", text="When is bin day?")
    await stack.send(message)
    await sign_in(client, "ian.investigator")
    home = await client.get("/staff/queues/mine")
    assert 'href="/staff/triage"' not in home.text
    assert (await client.get("/staff/triage")).status_code == 403
    item_id = await _id(stack, message)
    assert (await client.get(f"/staff/triage/{item_id}")).status_code == 403
    refused = await client.post(
        f"/staff/triage/{item_id}/dismiss", data={"csrf_token": form_token(home.text), "dismiss_reason": "No"}
    )
    assert refused.status_code == 403 and (await inbound_row(stack.pool, message))["status"] == "triage"
