"""Reading an inbound message (inbound/parse.py), without servers: what kind it is, which complaint it names,
its new text, its files, and the letter a bounce answers."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from inbound.parse import headers_only, html_to_text, parse
from tests.inbound_helpers import mail


@pytest.mark.parametrize(
    "headers, subject, kind, looks_automatic",
    [
        ({"Auto-Submitted": "auto-replied"}, "Re: complaint", "auto_reply", False),
        ({"Auto-Submitted": "auto-generated"}, "Re: complaint", "auto_reply", False),
        ({"Auto-Submitted": "no"}, "Re: complaint", "message", False),
        ({"Precedence": "bulk"}, "Re: complaint", "auto_reply", False),
        ({"Precedence": "junk"}, "Re: complaint", "auto_reply", False),
        ({"Precedence": "auto_reply"}, "Re: complaint", "auto_reply", False),
        # A resident writing through a mailing list is still a person.
        ({"Precedence": "list"}, "Re: complaint", "message", False),
        ({"X-Autoreply": "yes"}, "Re: complaint", "auto_reply", False),
        ({"X-Autorespond": "yes"}, "Re: complaint", "auto_reply", False),
        ({"Auto-Submitted": "auto-replied"}, "Automatic reply: Re: complaint", "auto_reply", False),
        # A subject alone never drops a message: an officer judges it in triage.
        ({}, "Automatic reply: Re: complaint", "message", True),
        ({}, "Out of Office: Re: complaint", "message", True),
        ({}, "Out of office hours repairs line never answered", "message", True),
        ({}, "Re: out of office hours repairs", "message", False),
        ({}, "Re: complaint", "message", False),
    ],
)
def test_automatic_replies_are_told_from_people(
    headers: dict[str, str], subject: str, kind: str, looks_automatic: bool
) -> None:
    raw = mail(subject=subject, headers=headers).as_bytes()
    assert (parse(raw).kind, parse(raw).looks_automatic) == (kind, looks_automatic)
    # also when the message is past the size limit
    assert (headers_only(raw).kind, headers_only(raw).looks_automatic) == (kind, looks_automatic)


def test_references_from_a_plus_address_in_the_envelope_or_headers_and_the_subject() -> None:
    by_envelope = mail(to="complaints@council.example").as_bytes()
    assert parse(by_envelope, ["complaints+cmp-2026-000123@council.example"]).references == [
        "CMP-2026-000123"
    ]
    in_header = mail(to="Complaints <complaints+CMP-2026-000123@council.example>").as_bytes()
    assert parse(in_header).references == ["CMP-2026-000123"]
    in_subject = mail(subject="Re: Your complaint CMP-2026-000045 (acknowledged)").as_bytes()
    assert parse(in_subject).references == ["CMP-2026-000045"]
    assert parse(mail(subject="Re: complaint 2026-45").as_bytes()).references == []


@pytest.mark.parametrize(
    "text, wanted",
    [
        (
            "Yes, Tuesday suits me.\n\nKind regards,\nAda\n\nOn Mon, 30 Nov 2026 at 10:00, Complaints"
            " <complaints@council.example> wrote:\n> Can we visit on Tuesday?\n",
            "Yes, Tuesday suits me.",
        ),
        ("Yes, Tuesday suits me.\n\n-- \nAda Resident\n07700 900000\n", "Yes, Tuesday suits me."),
        (
            "Yes, Tuesday suits me.\n\n-----Original Message-----\nFrom: Complaints\nSent: Monday\n\nold",
            "Yes, Tuesday suits me.",
        ),
        (
            "Yes.\n\nFrom: Complaints <complaints@council.example>\nSent: 30 November 2026 10:00\n"
            "To: Ada\nSubject: Visit\n\nCan we visit?",
            "Yes.",
        ),
    ],
)
def test_the_new_text_is_cut_from_quoted_history_and_signatures(text: str, wanted: str) -> None:
    assert parse(mail(text=text).as_bytes()).text == wanted


def test_html_becomes_text_without_scripts_styles_or_fetches() -> None:
    html = (
        '<html><head><style>p {color: red}</style><script>fetch("https://x.example")</script></head>'
        '<body><p>The leak is <b>worse</b>.</p><img src="https://tracker.example/p.gif">'
        "<p>Ada</p></body></html>"
    )
    text = html_to_text(html)
    assert "The leak is worse." in text and "fetch" not in text and "color" not in text
    assert "tracker" not in text
    assert parse(mail(text="", html=html).as_bytes()).text.startswith("The leak is worse.")


def test_files_are_the_attachments_not_the_body() -> None:
    message = mail(
        text="See attached.", html="<p>See attached.</p>", files=[("a.pdf", "application/pdf", b"%PDF-1")]
    )
    parsed = parse(message.as_bytes())
    assert [(item.filename, item.content_type, item.content) for item in parsed.files] == [
        ("a.pdf", "application/pdf", b"%PDF-1")
    ]


def test_a_message_without_a_message_id_is_keyed_by_its_content() -> None:
    message = EmailMessage()
    message["From"] = "ada@example.org"
    message["Subject"] = "No id"
    message.set_content("Hello")
    raw = message.as_bytes()
    assert parse(raw).message_id == parse(raw).message_id
    assert parse(raw).message_id != parse(raw + b"x").message_id
    assert parse(raw).sender == "ada@example.org"


def test_a_next_stage_request_is_recognised() -> None:
    assert parse(mail(text="I want my complaint escalated please.").as_bytes()).asks_for_next_stage
    assert parse(mail(subject="Stage 2 request").as_bytes()).asks_for_next_stage
    assert not parse(mail(text="Thank you, the repair is done.").as_bytes()).asks_for_next_stage


def test_text_postgresql_cannot_store_is_left_out_so_the_message_still_reaches_triage() -> None:
    raw = mail(subject="Bad\x00subject", text="Nul\x00 byte").as_bytes()
    parsed = parse(raw)
    assert "\x00" not in parsed.subject and "\x00" not in parsed.text
    assert parsed.text == "Nul byte"


def _from(*values: str) -> bytes:
    lines = "".join(f"From: {value}\r\n" for value in values)
    return f"{lines}To: complaints@council.example\r\nSubject: Re: complaint\r\n\r\nHello\r\n".encode()


@pytest.mark.parametrize(
    "from_values, sender",
    [
        (["Ada Resident <Ada@Example.org>"], "ada@example.org"),
        (["ada@example.org"], "ada@example.org"),
        (["=?utf-8?q?Ada_R=C3=A9sident?= <ada@example.org>"], "ada@example.org"),
        # An encoded word decodes to the victim's address, but e-mail never sends from it.
        (["=?utf-8?q?victim=40x=2Ecom?="], None),
        # Several addresses, or several From headers: no one sender to match.
        (["victim@x.com, attacker@evil.com"], None),
        (["victim@x.com", "attacker@evil.com"], None),
        (["<>"], None),
        (["undisclosed-recipients:;"], None),
        ([], None),
    ],
)
def test_the_sender_is_the_one_real_address_of_the_one_from_header(
    from_values: list[str], sender: str | None
) -> None:
    raw = _from(*from_values)
    assert parse(raw).sender == sender
    assert headers_only(raw).sender == sender
