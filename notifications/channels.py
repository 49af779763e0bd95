"""Delivery channels: e-mail over SMTP (aiosmtplib) or GOV.UK Notify, chosen by NOTIFICATION_CHANNEL.

A `Sender` sends one rendered message and returns the provider's id for it. It tells the outbox what
happened when it could not send, because that decides whether the message may be tried again:

- `TransientDeliveryError`: it certainly did not go out, and a later try may work (server down, 4xx reply,
  Notify 429 or 5xx). The outbox retries it with backoff.
- `PermanentDeliveryError`: it certainly did not go out, and trying again will not help (address refused,
  5xx reply to the recipient or the data, Notify 400/403). The outbox marks it failed and flags staff.
- `UncertainDeliveryError`: the message may have gone out (the connection was lost, or timed out, after
  the message itself was handed over). The outbox never sends it again: it is marked uncertain for staff.

Any other exception is treated like the last case.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
from dataclasses import dataclass
from email import charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from typing import Any, Protocol

import aiosmtplib
import requests
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from core.settings import Settings


class DeliveryError(Exception):
    """A message was not delivered; the subclass says whether it went out and whether to try again."""


class TransientDeliveryError(DeliveryError):
    """Not sent; worth trying again later."""


class PermanentDeliveryError(DeliveryError):
    """Not sent; trying again will not help."""


class UncertainDeliveryError(DeliveryError):
    """It may or may not have been sent: never try again automatically."""


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: str
    to_address: str
    subject: str
    text: str
    html: str


class Sender(Protocol):
    """Sends one message; returns the provider's id for it (raises a `DeliveryError` subclass)."""

    @property
    def channel(self) -> str: ...

    async def send(self, message: OutgoingMessage) -> str: ...


def message_id(notification_id: str, mail_from: str) -> str:
    """The Message-ID of a notification: the same on every try, so a receiving system can spot a copy."""
    digest = hashlib.sha256(notification_id.encode()).hexdigest()[:40]
    domain = mail_from.rpartition("@")[2] or "complaints.invalid"
    return f"<{digest}@{domain}>"


# The parts' bodies: UTF-8 in quoted-printable, readable in the raw message.
_UTF8_QP = charset.Charset("utf-8")
_UTF8_QP.body_encoding = charset.QP


def build_email(message: OutgoingMessage, mail_from: str) -> Message:
    """The e-mail of a letter: multipart/alternative, the text then the HTML, UTF-8 in quoted-printable, the
    subject RFC 2047-encoded when it is not ASCII. Built with the `email.mime` classes: `EmailMessage`
    parses every header through the default policy's header registry, and building one took about 4 ms,
    the dearest call of a letter's delivery in the worker (bench/README.md); this takes under 1 ms."""
    email = MIMEMultipart("alternative")
    email["From"] = mail_from
    email["To"] = message.to_address
    subject = message.subject  # folded at 78 characters; encoded (RFC 2047) only when it is not ASCII
    email["Subject"] = Header(subject, "us-ascii" if subject.isascii() else "utf-8")  # type: ignore[assignment]
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = message_id(message.notification_id, mail_from)
    email["X-Complaints-Notification-Id"] = message.notification_id
    email.attach(MIMEText(message.text, "plain", _UTF8_QP))  # type: ignore[arg-type]
    email.attach(MIMEText(message.html, "html", _UTF8_QP))  # type: ignore[arg-type]
    return email


_hostname: list[str] = []


async def _local_hostname() -> str:
    """The name this host gives in EHLO, looked up once per process (in a thread: `socket.getfqdn()` may wait
    on DNS): aiosmtplib otherwise looks it up again, in a thread, for every connection."""
    if not _hostname:
        _hostname.append(await asyncio.to_thread(socket.getfqdn))
    return _hostname[0]


class SmtpSender:
    """E-mail over SMTP. Each message is its own short connection (MAIL, RCPT, DATA, QUIT)."""

    channel = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        mail_from: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self._host = host
        self._port = port
        self._mail_from = mail_from
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    async def send(self, message: OutgoingMessage) -> str:
        email = build_email(message, self._mail_from)
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=self._timeout,
            start_tls=self._starttls,
            local_hostname=await _local_hostname(),
        )
        # Everything before DATA: if it fails, nothing has been handed over.
        try:
            await smtp.connect()
            if self._username:
                await smtp.login(self._username, self._password or "")
            await smtp.mail(self._mail_from)
            await smtp.rcpt(message.to_address)
        except aiosmtplib.SMTPRecipientRefused as refused:
            smtp.close()
            raise _by_code(refused.code, f"recipient refused: {refused}") from refused
        except aiosmtplib.SMTPResponseException as reply:
            smtp.close()
            raise _by_code(reply.code, f"SMTP server said: {reply}", permanent_5xx=False) from reply
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise TransientDeliveryError(f"SMTP server unavailable: {type(exc).__name__}: {exc}") from exc
        try:
            await smtp.data(email.as_bytes())
        except aiosmtplib.SMTPResponseException as reply:
            # The server answered DATA with a refusal: it did not take the message.
            smtp.close()
            raise _by_code(reply.code, f"message refused: {reply}") from reply
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Lost after the message was handed over: the server may have queued it.
            smtp.close()
            raise UncertainDeliveryError(
                f"SMTP connection lost during DATA: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()  # the message was accepted; a failed goodbye changes nothing
        return str(email["Message-ID"])


def _by_code(code: int, text: str, *, permanent_5xx: bool = True) -> DeliveryError:
    """4xx replies are temporary by definition (RFC 5321); 5xx to the recipient or data are permanent.

    A 5xx before the recipient (authentication, the sender address) is the service's configuration, not
    the message: it stays transient so that fixing the settings lets the messages go out.
    """
    if 500 <= code < 600 and permanent_5xx:
        return PermanentDeliveryError(text)
    return TransientDeliveryError(text)


class NotifySender:
    """GOV.UK Notify: one e-mail template whose subject is ((subject)) and body ((body)).

    The official client is synchronous: each call runs in a thread. The notification id is the Notify
    `reference`, so a message can be found in Notify's own records.
    """

    channel = "notify"

    def __init__(self, *, client: Any, template_id: str) -> None:
        self._client = client
        self._template_id = template_id

    @classmethod
    def from_key(cls, api_key: str, template_id: str) -> NotifySender:
        return cls(client=NotificationsAPIClient(api_key), template_id=template_id)  # type: ignore[no-untyped-call]

    async def send(self, message: OutgoingMessage) -> str:
        try:
            response = await asyncio.to_thread(
                self._client.send_email_notification,
                email_address=message.to_address,
                template_id=self._template_id,
                personalisation={"subject": message.subject, "body": message.text},
                reference=message.notification_id,
            )
        except APIError as error:
            raise _notify_error(error) from error
        except requests.RequestException as exc:
            raise _request_error(exc) from exc
        return str(response.get("id", "")) if isinstance(response, dict) else ""

    async def find_sent(self, message: OutgoingMessage) -> str | None:
        """Notify's id for this message if Notify has it (it keeps every message, by our `reference`), else
        None. Asked when a sender stopped between handing a message over and recording it: Notify's own
        record says whether it went, so nothing is sent twice. Raises `TransientDeliveryError` if Notify
        cannot be asked now."""
        try:
            found = await asyncio.to_thread(
                self._client.get_all_notifications, reference=message.notification_id
            )
        except (APIError, requests.RequestException) as error:
            raise TransientDeliveryError(f"GOV.UK Notify cannot be asked: {error}") from error
        notifications = found.get("notifications", []) if isinstance(found, dict) else []
        for notification in notifications:
            if notification.get("reference") == message.notification_id and notification.get("id"):
                return str(notification["id"])
        return None


def _notify_error(error: APIError) -> DeliveryError:
    status = error.status_code
    text = f"GOV.UK Notify {status}: {error.message}"
    if error.response is None:
        # No answer at all: the client turns the requests error into a 503; its cause tells which.
        cause = error.__cause__ or error.__context__
        if isinstance(cause, requests.RequestException):
            return _request_error(cause)
        return TransientDeliveryError(text)
    if status == 429 or status >= 500:
        return TransientDeliveryError(text)
    return PermanentDeliveryError(text)


def _request_error(exc: requests.RequestException) -> DeliveryError:
    text = f"GOV.UK Notify unreachable: {type(exc).__name__}: {exc}"
    if isinstance(exc, requests.ReadTimeout):
        # The request went out and no answer came back: Notify may have accepted it.
        return UncertainDeliveryError(text)
    return TransientDeliveryError(text)


class DisabledSender:
    """NOTIFICATION_CHANNEL=none: nothing is e-mailed (the outbox marks messages skipped, to post)."""

    channel = "none"

    async def send(self, message: OutgoingMessage) -> str:
        raise PermanentDeliveryError("e-mail is turned off (NOTIFICATION_CHANNEL=none)")


def sender_from_settings(settings: Settings) -> Sender:
    if settings.notification_channel == "none":
        return DisabledSender()
    if settings.notification_channel == "notify":
        if not settings.notify_api_key or not settings.notify_email_template_id:
            raise ValueError("NOTIFY_API_KEY and NOTIFY_EMAIL_TEMPLATE_ID must be set for GOV.UK Notify")
        return NotifySender.from_key(settings.notify_api_key, settings.notify_email_template_id)
    return SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        mail_from=settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
    )
