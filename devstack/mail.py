"""Development only: a local SMTP catcher. Nothing leaves the machine; every message is kept as a file.

`make run` starts it (`python -m devstack.mail`) on SMTP_HOST:SMTP_PORT (127.0.0.1:1025) and points the
worker at it. Each message is written to `DATA_DIR/mail/<UTC timestamp>-<id>.eml`; the API shows them at
`GET /dev/mail` (development only).
"""

from __future__ import annotations

import email
import email.policy
import signal
import threading
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from core.settings import Settings, get_settings

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def mail_dir(settings: Settings) -> Path:
    return settings.data_dir / "mail"


class SaveToFolder:
    """aiosmtpd handler: every message accepted is written to `folder` as an .eml file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not content:
            content = envelope.content
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        envelope_headers = (
            f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(envelope_headers + content)
        temporary.rename(self.folder / name)  # readers never see half a message
        return "250 Message accepted for delivery"


class MailCatcher:
    """The catcher on host:port, in a thread of its own (aiosmtpd's Controller)."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.folder = folder
        self.host = host
        self.port = port
        self.handler = SaveToFolder(folder)
        self._controller = Controller(self.handler, hostname=host, port=port)

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


# ------------------------------------------------------------------------------------------- reading


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    assert isinstance(part, EmailMessage)
    content: str = part.get_content()
    return content.replace("\r\n", "\n")  # SMTP line endings, as the text was written


def _summary(path: Path, message: EmailMessage) -> dict[str, Any]:
    text = _part(message, "plain")
    return {
        "name": path.name,
        "from": str(message.get("From", "")),
        "to": str(message.get("X-Envelope-To") or message.get("To", "")),
        "subject": str(message.get("Subject", "")),
        "date": str(message.get("Date", "")),
        "message_id": str(message.get("Message-ID", "")),
        "notification_id": str(message.get("X-Complaints-Notification-Id", "")),
        "preview": "\n".join(text.strip().splitlines()[:4]),
    }


def list_messages(folder: Path) -> list[dict[str, Any]]:
    """The caught messages, newest first."""
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)
    return [_summary(path, _parse(path)) for path in paths]


def read_message(folder: Path, name: str) -> dict[str, Any] | None:
    """One caught message with its text and HTML bodies, or None if there is no such file."""
    if not name.endswith(".eml") or name.startswith(".") or not set(name) <= _NAME_CHARS:
        return None
    path = folder / name
    if not path.is_file():
        return None
    message = _parse(path)
    return _summary(path, message) | {
        "text": _part(message, "plain"),
        "html": _part(message, "html"),
        "headers": {key: str(value) for key, value in message.items()},
    }


def main() -> None:
    settings = get_settings()
    folder = mail_dir(settings)
    catcher = MailCatcher(folder, settings.smtp_host, settings.smtp_port).start()
    print(f"SMTP catcher on {settings.smtp_host}:{catcher.port}, saving to {folder}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    finally:
        catcher.stop()


if __name__ == "__main__":
    main()
