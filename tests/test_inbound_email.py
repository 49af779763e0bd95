"""Inbound e-mail over real SMTP: a resident's reply reaches its complaint (new information, its attachment as
evidence), a stranger's message waits in triage, a reference from another address is flagged, automatic
replies are dropped, a bounce flags the letter it answers, a redelivery adds nothing, and past a limit a
message waits in triage unprocessed."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import pytest

from core.services import Services
from devstack.servers import free_port
from inbound import smtp
from inbound.parse import read_message
from inbound.receive import receive
from notifications.channels import message_id
from tests.api_helpers import bearer
from tests.inbound_helpers import PHOTO, Inbound, complaint, eventually, inbound, inbound_row, mail
from tests.test_api_complaints import create

__all__ = ["inbound"]  # the fixture, imported so pytest finds it here

QUOTED = (
    "Here is a photo of the damp.\n\nThanks,\nAda\n\n"
    "On Mon, 30 Nov 2026 at 10:00, Complaints <complaints@council.example> wrote:\n"
    "> We have received your complaint CMP-2026-000001.\n> Please reply with any evidence.\n"
)


async def _notes(stack: Inbound, reference: str) -> list[str]:
    """The new information on the case's event trail, as staff read it."""
    rows = await stack.pool.fetch(
        "SELECT detail FROM complaint_events WHERE reference = $1 AND action = 'add_information'"
        " ORDER BY seq",
        reference,
    )
    details = [json.loads(row["detail"]) if isinstance(row["detail"], str) else row["detail"] for row in rows]
    return [str(detail["summary"]) for detail in details]


async def _information_events(stack: Inbound, reference: str) -> list[str]:
    rows = await stack.pool.fetch(
        "SELECT actor_id FROM complaint_events WHERE reference = $1 AND action = 'add_information'", reference
    )
    return [row["actor_id"] for row in rows]


async def _triage(stack: Inbound) -> list[dict[str, object]]:
    answer = await stack.client.get("/api/triage", headers=bearer("olivia.officer", stack.settings))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, object]] = answer.json()
    return items


async def test_a_reply_reaches_its_complaint_with_its_attachment_and_a_redelivery_adds_nothing(
    inbound: Inbound, caplog: pytest.LogCaptureFixture
) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    reply = mail(
        sender=f"Ada Resident <{address.upper()}>",  # the complainant, whatever the case of the address
        to=f"complaints+{reference}@council.example",
        text=QUOTED,
        files=[
            ("bedroom.png", "image/png", PHOTO),
            ("run-me.exe", "application/x-msdownload", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"),
        ],
    )
    caplog.set_level(logging.INFO)
    await stack.send(reply)

    # The workflow's new_information signal, applied as add-information by the inbound e-mail channel.
    await eventually(lambda: _information_events(stack, reference), "the reply reaches the complaint")
    assert await _information_events(stack, reference) == ["inbound-email"]
    notes = await eventually(lambda: _notes(stack, reference), "the note on the case")
    assert notes == ["Here is a photo of the damp."]  # quoted history and signature trimmed
    # The photo is evidence, like an upload; the program is refused by the same type check as an upload.
    listed = await stack.client.get(
        f"/api/complaints/{reference}/attachments", headers=bearer("olivia.officer", stack.settings)
    )
    assert [(item["filename"], item["content_type"], item["uploaded_by"]) for item in listed.json()] == [
        ("bedroom.png", "image/png", "resident")
    ]
    row = await inbound_row(stack.pool, reply)
    assert (row["status"], row["reference"], row["source"]) == ("routed", reference, "smtp")
    audit = await stack.pool.fetchrow(
        "SELECT * FROM audit_log WHERE reference = $1 AND action = 'inbound_email'", reference
    )
    assert audit is not None
    after = json.loads(audit["after"]) if isinstance(audit["after"], str) else audit["after"]
    assert (after["files"], after["refused"], after["channel"]) == (1, 1, "email")
    # A subject access request shows the e-mail as read.
    held = await stack.client.get(
        f"/api/complaints/{reference}/personal-data", headers=bearer("maya.manager", stack.settings)
    )
    assert [(item["sender"], item["text"]) for item in held.json()["inbound_emails"]] == [
        (address, "Here is a photo of the damp.")
    ]
    # No personal data in the logs: no address, subject or words of the message.
    logged = caplog.text.lower()
    assert address not in logged and "damp" not in logged and "your complaint" not in logged

    # The same message again (a relay's redelivery): stored once, applied once.
    await stack.send(reply)
    count = await stack.pool.fetchval(
        "SELECT count(*) FROM inbound_messages WHERE message_id = $1", str(reply["Message-ID"])
    )
    assert count == 1
    assert await _information_events(stack, reference) == ["inbound-email"]
    again = await stack.client.get(
        f"/api/complaints/{reference}/attachments", headers=bearer("olivia.officer", stack.settings)
    )
    assert len(again.json()) == 1


async def test_html_only_reply_with_the_reference_in_the_subject_arrives_as_text(inbound: Inbound) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    reply = mail(
        sender=address,
        subject=f"RE: Complaint {reference}",
        text="",
        html="<html><body><p>The mould is <b>back</b>.</p><script>alert('x')</script>"
        "<style>p {color: red}</style></body></html>",
    )
    await stack.send(reply)
    notes = await eventually(lambda: _notes(stack, reference), "the note on the case")
    assert notes == ["The mould is back."]


async def test_a_strangers_message_waits_in_triage_and_a_reference_from_another_address_is_flagged(
    inbound: Inbound,
) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    stranger = mail(
        sender="Bob Neighbour <bob@example.net>",
        subject="Bins not collected",
        text="The bins in Elm Road were not collected this week.",
        files=[("bins.jpg", "image/jpeg", b"\xff\xd8\xff" + b"bins" * 20)],
    )
    mismatched = mail(
        sender="Mallory <mallory@example.net>",
        subject=f"About {reference}",
        text="Please add this to the complaint.",
    )
    await stack.send(stranger)
    await stack.send(mismatched)

    items = {item["subject"]: item for item in await _triage(stack)}
    waiting = items["Bins not collected"]
    assert waiting["sender"] == "bob@example.net"
    assert waiting["text_start"] == "The bins in Elm Road were not collected this week."
    assert waiting["attachments"] == [{"filename": "bins.jpg", "content_type": "image/jpeg", "size": 83}]
    assert waiting["arrived_at"] and waiting["flag"] is None and waiting["candidate"] is None
    flagged = items[f"About {reference}"]
    assert (flagged["flag"], flagged["flag_text"], flagged["candidate"]) == (
        "sender_mismatch",
        "sender does not match",
        reference,
    )
    assert await _information_events(stack, reference) == []  # nothing reached the complaint
    # Triage is an officer's (and manager's) queue.
    refused = await stack.client.get("/api/triage", headers=bearer("ian.investigator", stack.settings))
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "headers, subject",
    [
        # Every header variant is in tests/test_inbound_parse.py; here, the path over SMTP.
        ({"Auto-Submitted": "auto-replied"}, "Re: Your complaint"),
        ({"X-Autoreply": "yes"}, "Automatic reply: Your complaint"),
    ],
)
async def test_automatic_replies_are_dropped(inbound: Inbound, headers: dict[str, str], subject: str) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    auto = mail(
        sender=address,
        to=f"complaints+{reference}@council.example",
        subject=subject,
        text="I am out of the office until Monday.",
        headers=headers,
    )
    await stack.send(auto)
    row = await inbound_row(stack.pool, auto)
    assert (row["kind"], row["status"]) == ("auto_reply", "dropped")
    assert await _information_events(stack, reference) == []
    assert all(item["subject"] != subject for item in await _triage(stack))


async def test_a_complaint_whose_subject_looks_automatic_waits_in_triage_not_dropped(
    inbound: Inbound,
) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    genuine = mail(
        sender=address,
        to=f"complaints+{reference}@council.example",
        subject="Out of office hours repairs line never answered",
        text="I rang the out of hours line three times on Saturday and nobody answered.",
    )
    await stack.send(genuine)
    row = await inbound_row(stack.pool, genuine)
    assert (row["kind"], row["status"], row["flag"]) == ("message", "triage", "looks_automatic")
    waiting = [item for item in await _triage(stack) if item["subject"] == genuine["Subject"]]
    assert [item["flag_text"] for item in waiting] == [
        "looks automatic (an out-of-office subject), but no automatic-reply header"
    ]


def _bounce(original_message_id: str, notification_id: str | None) -> EmailMessage:
    """A delivery status notification (RFC 3464) as a mail server writes one."""
    returned = f"Message-ID: {original_message_id}\r\nSubject: Your complaint\r\n"
    if notification_id:
        returned += f"X-Complaints-Notification-Id: {notification_id}\r\n"
    raw = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: complaints@council.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <dsn-{original_message_id.strip('<>')}>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; ada@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned}\r\n--B--\r\n"
    )
    return read_message(raw.encode())


@pytest.mark.parametrize("with_notification_header", [True, False])
async def test_a_bounce_marks_the_letter_undelivered_and_flags_the_complaint(
    inbound: Inbound, with_notification_header: bool
) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    acknowledged = await stack.client.post(
        f"/api/complaints/{reference}/acknowledge", json={}, headers=bearer("olivia.officer", stack.settings)
    )
    assert acknowledged.status_code == 200, acknowledged.text
    letter = await stack.pool.fetchrow(
        "SELECT id FROM notifications WHERE reference = $1 AND audience = 'complainant' ORDER BY seq LIMIT 1",
        reference,
    )
    assert letter is not None
    sent_as = message_id(letter["id"], stack.settings.mail_from)
    bounce = _bounce(sent_as, letter["id"] if with_notification_header else None)
    await stack.send(bounce)

    row = await inbound_row(stack.pool, bounce)
    assert (row["kind"], row["status"], row["reference"]) == ("bounce", "bounce_recorded", reference)
    marked = await stack.pool.fetchrow(
        "SELECT status, bounced_at, last_error FROM notifications WHERE id = $1", letter["id"]
    )
    assert marked is not None
    assert marked["status"] == "failed" and marked["bounced_at"] is not None
    assert "bounced" in marked["last_error"] and "5.1.1" in marked["last_error"]
    case = await stack.client.get(
        f"/api/complaints/{reference}", headers=bearer("olivia.officer", stack.settings)
    )
    assert case.json()["delivery_problem"] is True
    flagged = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE reference = $1 AND action = 'delivery_bounced'", reference
    )
    assert flagged == 1
    assert await _information_events(stack, reference) == []


async def test_past_a_limit_a_message_waits_in_triage_unprocessed(inbound: Inbound) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    to = f"complaints+{reference}@council.example"
    # More attachments than a message may carry (3 in this test's settings).
    crowded = mail(sender=address, to=to, files=[(f"p{n}.png", "image/png", PHOTO) for n in range(4)])
    await stack.send(crowded)
    row = await inbound_row(stack.pool, crowded)
    assert (row["status"], row["flag"], row["text"]) == ("triage", "over_limit", "")
    assert row["raw"] is not None  # kept as it came, never lost
    # More messages from one sender in an hour than allowed (6, counting the one above): the rest wait.
    for number in range(5):
        await stack.send(mail(sender=address, to=to, text=f"Update {number}"))
    routed = await eventually(
        lambda: _count_information(stack, reference, 5), "the five updates reach the complaint"
    )
    assert routed
    last = mail(sender=address, to=to, text="Update 6")
    await stack.send(last)
    row = await inbound_row(stack.pool, last)
    assert (row["status"], row["flag"]) == ("triage", "over_limit")
    items = [item for item in await _triage(stack) if item["sender"] == address]
    assert [(item["flag"], item["text_start"]) for item in items] == [("over_limit", "")] * 2
    assert await _information_events(stack, reference) == ["inbound-email"] * 5


async def _count_information(stack: Inbound, reference: str, wanted: int) -> bool:
    return len(await _information_events(stack, reference)) == wanted


async def test_a_message_over_the_size_limit_is_kept_unprocessed(inbound: Inbound) -> None:
    stack = inbound
    small = Services(
        settings=stack.settings.model_copy(update={"inbound_max_message_bytes": 2_000}),
        pool=stack.pool,
        temporal=stack.services.temporal,
        policies=stack.services.policies,
    )
    big = mail(
        sender="Cara <cara@example.org>",
        text="Evidence attached.",
        files=[("scan.pdf", "application/pdf", b"%PDF" + b"x" * 5_000)],
    )
    inbound_id = await receive(
        small, big.as_bytes(), recipients=["complaints@council.example"], source="smtp"
    )
    assert inbound_id is not None
    row = await inbound_row(stack.pool, big)
    assert (row["status"], row["flag"], row["sender"]) == ("triage", "over_limit", "cara@example.org")
    assert row["size"] > 5_000 and len(row["raw"]) == row["size"]


async def test_only_allowed_relays_may_hand_mail_over_and_an_outage_asks_the_relay_to_retry(
    inbound: Inbound,
) -> None:
    stack = inbound
    received: list[bytes] = []

    async def take(raw: bytes, recipients: list[str]) -> None:
        received.append(raw)

    port = free_port()
    only_relay = stack.settings.model_copy(update={"inbound_smtp_allowed_relays": "10.1.0.0/16"})
    server = await smtp.start_listener(only_relay, take, port=port)
    try:
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
            await aiosmtplib.send(mail(), hostname="127.0.0.1", port=port, timeout=10)
        assert refused.value.code == 550
    finally:
        server.close()
        await server.wait_closed()
    assert received == []

    async def database_down(raw: bytes, recipients: list[str]) -> None:
        raise OSError("connection refused")

    port = free_port()
    server = await smtp.start_listener(stack.settings, database_down, port=port)
    try:
        with pytest.raises(aiosmtplib.SMTPDataError) as deferred:
            await aiosmtplib.send(mail(), hostname="127.0.0.1", port=port, timeout=10)
        assert deferred.value.code == 451  # a temporary failure: the relay keeps the message and retries
    finally:
        server.close()
        await server.wait_closed()


async def test_a_representative_reaches_the_complaint_once_consent_is_on_file(inbound: Inbound) -> None:
    stack = inbound
    helper = f"ben-{uuid.uuid4().hex[:8]}@example.org"
    created = await create(
        stack.client,
        stack.settings,
        complainant={"name": "Ada Resident", "email": f"ada-{uuid.uuid4().hex[:8]}@example.org"},
        representative={
            "name": "Ben Helper",
            "email": helper,
            "kind": "family",
            "relationship": "Her son",
            "consent_recorded": False,
        },
    )
    reference = created["reference"]
    to = f"complaints+{reference}@council.example"
    early = mail(sender=helper, to=to, text="My mother's ceiling fell in.")
    await stack.send(early)
    assert (
        (await inbound_row(stack.pool, early))["status"],
        (await inbound_row(stack.pool, early))["flag"],
    ) == (
        "triage",
        "sender_mismatch",
    )  # consent still to come: the complaint is the complainant's
    recorded = await stack.client.post(
        f"/api/complaints/{reference}/record-representative-consent",
        json={"consent_kind": "written", "received_on": datetime.now(UTC).date().isoformat()},
        headers=bearer("olivia.officer", stack.settings),
    )
    assert recorded.status_code == 200, recorded.text
    await eventually(
        lambda: stack.pool.fetchval(
            "SELECT (representative->>'consent_recorded')::boolean FROM complaints WHERE reference = $1",
            reference,
        ),
        "the consent is on the case",
    )
    later = mail(sender=f"Ben Helper <{helper}>", to=to, text="The ceiling is still down.")
    await stack.send(later)
    assert await eventually(lambda: _notes(stack, reference), "the reply arrives") == [
        "The ceiling is still down."
    ]


async def _restrict_messages(stack: Inbound, reference: str) -> None:
    """A manager restricts the complainant's messages on this complaint for 90 days."""
    today = datetime.now(UTC).date()
    restricted = await stack.client.post(
        f"/api/complaints/{reference}/restrict-contact",
        json={
            "reason": "Abusive messages to the team.",
            "until": (today + timedelta(days=90)).isoformat(),
            "review_on": (today + timedelta(days=30)).isoformat(),
            "channels": ["messages"],
        },
        headers=bearer("maya.manager", stack.settings),
    )
    assert restricted.status_code == 200, restricted.text


async def _waits_in_triage_restricted(stack: Inbound, reply: EmailMessage, reference: str) -> None:
    """The reply is delivered, waits in triage flagged as restricted contact, and adds nothing to the
    complaint."""
    await stack.send(reply)
    row = await inbound_row(stack.pool, reply)
    assert (row["status"], row["flag"]) == ("triage", "contact_restricted")
    assert await _information_events(stack, reference) == []


async def test_a_reply_from_someone_whose_messages_are_restricted_waits_in_triage(inbound: Inbound) -> None:
    stack = inbound
    reference, address = await complaint(stack)
    await _restrict_messages(stack, reference)
    reply = mail(sender=address, to=f"complaints+{reference}@council.example", text="You will hear from me.")
    await _waits_in_triage_restricted(stack, reply, reference)


async def test_a_representative_whose_own_messages_are_restricted_waits_in_triage(inbound: Inbound) -> None:
    stack = inbound
    helper = f"ben-{uuid.uuid4().hex[:8]}@example.org"
    own = await create(stack.client, stack.settings, complainant={"name": "Ben Helper", "email": helper})
    await _restrict_messages(stack, own["reference"])
    for_mother = await create(
        stack.client,
        stack.settings,
        complainant={"name": "Ada Resident", "email": f"ada-{uuid.uuid4().hex[:8]}@example.org"},
        representative={
            "name": "Ben Helper",
            "email": helper,
            "kind": "family",
            "relationship": "Her son",
            "consent_recorded": True,
        },
    )
    reference = for_mother["reference"]
    reply = mail(sender=helper, to=f"complaints+{reference}@council.example", text="You will hear from me.")
    await _waits_in_triage_restricted(stack, reply, reference)
