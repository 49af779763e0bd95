"""Reading one inbound message: who sent it, what it names, what kind it is, its new text and its files.

Pure functions over the raw bytes (the standard library's `email` parser with the modern policy): no I/O, so
every rule here is tested on its own. The reply's new text is cut from the quoted history and the signature
by `mail-parser-reply` (a kept library that knows the quoting styles of the common mail clients, in many
languages); HTML is turned into text by `inscriptis`, which never runs scripts or fetches anything.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from inscriptis import get_text
from mailparser_reply import EmailReplyParser

# A complaint reference as the service writes it (store.complaints.next_reference: at least six digits, seven
# once the one sequence passes 999,999).
REFERENCE = re.compile(r"\bCMP-\d{4}-\d{6,}\b", re.IGNORECASE)
# A plus-address naming one: complaints+CMP-2026-000123@council.example.
PLUS_REFERENCE = re.compile(r"\+(CMP-\d{4}-\d{6,})@", re.IGNORECASE)
# A request for the next stage: never acted on by itself (an officer records it from the triage item).
NEXT_STAGE = re.compile(
    r"\b(stage\s*(2|two)|next\s+stage|escalat\w*|review\s+(of\s+)?(my|the|this)\s+complaint)\b", re.IGNORECASE
)
# Subject lines of out-of-office replies from clients that set no RFC 3834 header. A subject alone never
# drops a message (a resident may write "Out of office hours repairs line never answered"): it goes to
# triage flagged `looks_automatic`, for an officer to judge.
OUT_OF_OFFICE_SUBJECT = re.compile(r"^\s*(automatic reply|auto(-|\s)?reply|out of (the )?office)\b", re.I)
# A receiving server's verdict that the From header's domain did not send the message (RFC 8601's
# Authentication-Results: DMARC, or Microsoft 365's composite authentication). Only a failure is read: a
# forged "pass" added by the sender sits beside the relay's own "fail", and changes nothing.
FORGED_FROM = re.compile(r"(?:^|[;\s])(?:dmarc|compauth)\s*=\s*fail\b", re.IGNORECASE)
TEXT_LIMIT = 10_000
QUOTE_SCAN_LIMIT = 5 * TEXT_LIMIT
HEADER_LIMIT = 998


@dataclass(frozen=True)
class MailFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str | None
    subject: str
    sent_at: datetime | None
    kind: str  # message | auto_reply | bounce
    references: list[str]
    text: str
    files: list[MailFile] = field(default_factory=list)
    # A bounce: the Message-IDs and notification ids of the letter it answers, and the DSN's status code.
    bounced_message_ids: list[str] = field(default_factory=list)
    bounced_notification_ids: list[str] = field(default_factory=list)
    bounce_status: str = ""
    # No automatic-reply header, but an out-of-office subject: a person decides (triage), nothing is dropped.
    looks_automatic: bool = False
    # A server on the way found the From header forged (`FORGED_FROM`): the sender is not who it says.
    from_forged: bool = False

    @property
    def asks_for_next_stage(self) -> bool:
        return bool(NEXT_STAGE.search(self.subject) or NEXT_STAGE.search(self.text))


def storable(text: str) -> str:
    """Text PostgreSQL can store: no NUL, no lone surrogate (a malformed message must still reach triage)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def read_message(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header is no header
        return ""
    return storable(" ".join(str(value or "").split())[:HEADER_LIMIT])


def message_id_of(message: Message, raw: bytes) -> str:
    """The Message-ID, or (none given) one derived from the content: a redelivery still adds nothing."""
    given = _header(message, "Message-ID").strip()
    return given or f"<sha256-{hashlib.sha256(raw).hexdigest()}@inbound.invalid>"


def _from_address(message: Message) -> Address | None:
    """The one address of the one From header, or None: none, several headers or several addresses
    (`From: victim@x.com, attacker@evil.com`), or no real addr-spec (an encoded word such as
    `=?utf-8?q?victim=40x=2Ecom?=`, which decodes to an address but is not one) never match a complainant."""
    try:
        headers = message.get_all("From") or []
        if len(headers) != 1:
            return None
        addresses: tuple[object, ...] = tuple(getattr(headers[0], "addresses", ()))
    except (ValueError, IndexError, TypeError):  # a malformed header is no sender
        return None
    if len(addresses) != 1:
        return None
    address = addresses[0]
    if not isinstance(address, Address):
        return None
    local, domain = address.username, address.domain
    if not local or not domain or "@" in local or any(c in domain for c in '@"<> \t\r\n'):
        return None
    return address


def sender_of(message: Message) -> str | None:
    address = _from_address(message)
    return None if address is None else storable(address.addr_spec.strip().lower()[:HEADER_LIMIT])


def sender_name(message: Message) -> str:
    address = _from_address(message)
    return "" if address is None else storable(address.display_name.strip()[:HEADER_LIMIT])


def from_forged(message: Message) -> bool:
    """Whether an Authentication-Results header says the From header's domain did not send the message."""
    try:
        results = [str(value) for value in message.get_all("Authentication-Results") or []]
    except (ValueError, IndexError, TypeError):  # a malformed header is no verdict
        return False
    return any(FORGED_FROM.search(result) for result in results)


def kind_of(message: Message) -> str:
    """`bounce` for a delivery status notification, `auto_reply` for any automatic reply, else `message`.

    Automatic replies, by their headers only: RFC 3834's `Auto-Submitted` other than `no`; `Precedence`
    bulk, junk or auto_reply (not `list`: a resident writing through a mailing list is still a person); the
    `X-Autoreply`/`X-Autorespond` headers of common autoresponders. A subject is not enough (looks_automatic).
    """
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type", "") or "").lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        return "bounce"
    if parseaddr(_header(message, "From"))[1].lower().startswith("mailer-daemon@"):
        return "bounce"
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return "auto_reply"
    if _header(message, "Precedence").lower() in ("bulk", "junk", "auto_reply"):
        return "auto_reply"
    if any(_header(message, name) for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder")):
        return "auto_reply"
    return "message"


def looks_automatic(message: Message, kind: str) -> bool:
    """A message with an out-of-office subject (Outlook's "Automatic reply:") but no automatic header."""
    return kind == "message" and bool(OUT_OF_OFFICE_SUBJECT.match(_header(message, "Subject")))


def references_in(message: Message, recipients: list[str]) -> list[str]:
    """Complaint references named by a plus-address (envelope or headers) or in the subject, first first."""
    found: list[str] = []
    addresses = list(recipients)
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        addresses += [address for _, address in getaddresses([_header(message, name)])]
    for address in addresses:
        found += [match.upper() for match in PLUS_REFERENCE.findall(address)]
    found += [match.upper() for match in REFERENCE.findall(_header(message, "Subject"))]
    return list(dict.fromkeys(found))


def html_to_text(html: str) -> str:
    """HTML as plain text: markup, scripts and styles dropped, nothing fetched or run."""
    return str(get_text(html))


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: read what can be read
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    text = storable(str(content))
    return html_to_text(text) if part.get_content_type() == "text/html" else text


def new_text(full: str) -> str:
    """The reply's own words: the quoted history and the signature cut off."""
    replies = EmailReplyParser(languages=["en"]).read(text=full).replies
    latest = replies[0].body if replies else full
    return latest.strip()[:TEXT_LIMIT]


def files_of(message: EmailMessage) -> list[MailFile]:
    files: list[MailFile] = []
    for part in message.iter_attachments():
        if not isinstance(part, EmailMessage) or part.get_content_maintype() in ("multipart", "message"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        files.append(
            MailFile(
                filename=storable(part.get_filename() or "attachment"),
                content_type=part.get_content_type(),
                content=payload,
            )
        )
    return files


def _bounced_headers(message: EmailMessage) -> list[Message]:
    """The headers of the letter a DSN answers: its message/rfc822 or text/rfc822-headers part."""
    found: list[Message] = []
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            found += [
                item for item in (inner if isinstance(inner, list) else [inner]) if isinstance(item, Message)
            ]
        elif part.get_content_type() == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found.append(email.message_from_bytes(payload, policy=email.policy.default))
    return found


def _dsn_status(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            text = part.as_string()
            match = re.search(r"^Status:\s*([245]\.\d{1,3}\.\d{1,3})", text, re.MULTILINE | re.IGNORECASE)
            if match:
                return match.group(1)
    return ""


def parse(raw: bytes, recipients: list[str] | None = None) -> ParsedMail:
    message = read_message(raw)
    kind = kind_of(message)
    date_header = _header(message, "Date")
    try:
        sent_at = parsedate_to_datetime(date_header) if date_header else None
    except (TypeError, ValueError):
        sent_at = None
    bounced = _bounced_headers(message) if kind == "bounce" else []
    text = body_text(message)
    return ParsedMail(
        message_id=message_id_of(message, raw),
        sender=sender_of(message),
        subject=_header(message, "Subject"),
        sent_at=sent_at if sent_at is None or sent_at.tzinfo else None,
        kind=kind,
        references=references_in(message, recipients or []),
        # The reply's own words come first: what follows the first QUOTE_SCAN_LIMIT characters (old quoted
        # history) is not scanned, so a huge body cannot keep the quote parser busy.
        text=new_text(text[:QUOTE_SCAN_LIMIT]) if kind == "message" else text.strip()[:TEXT_LIMIT],
        files=files_of(message) if kind == "message" else [],
        bounced_message_ids=[
            _header(headers, "Message-ID") for headers in bounced if headers.get("Message-ID")
        ],
        bounced_notification_ids=[
            _header(headers, "X-Complaints-Notification-Id")
            for headers in bounced
            if headers.get("X-Complaints-Notification-Id")
        ],
        bounce_status=_dsn_status(message) if kind == "bounce" else "",
        looks_automatic=looks_automatic(message, kind),
        from_forged=from_forged(message),
    )


def headers_only(raw: bytes, recipients: list[str] | None = None) -> ParsedMail:
    """What the headers alone tell (who, what about, what kind), read before any limit is applied: what
    triage shows of a message kept unprocessed, with no text and no files."""
    message = email.message_from_bytes(raw[:65_536], policy=email.policy.default)
    kind = kind_of(message)
    return ParsedMail(
        message_id=message_id_of(message, raw),
        sender=sender_of(message),
        subject=_header(message, "Subject"),
        sent_at=None,
        kind=kind,
        references=references_in(message, recipients or []),
        text="",
        looks_automatic=looks_automatic(message, kind),
        from_forged=from_forged(message),
    )
