"""XOAUTH2 sign-in to the shared mailbox (inbound/imap.py), over a real socket.

pymap (the IMAP server tests/test_inbound_imap.py polls) offers only PLAIN and LOGIN and does not take an
initial response on AUTHENTICATE (SASL-IR), which is how aioimaplib sends XOAUTH2: the path cannot be run
against it. So a minimal mailbox on a loopback port answers the poller here, and reads the SASL string with
pysasl's own XOAUTH2 server mechanism (the parser pymap's SASL layer would use): what is proven is the string
the poller sends (`user=...^Aauth=Bearer ...^A^A`, base64), that the token is read afresh from
INBOUND_IMAP_OAUTH_TOKEN_FILE at every poll (a refreshed token is used at once), that a refused token stops
the poll with nothing read and no password tried, and that the token is never logged. Not proven: sign-in to
a real provider's IMAP (Microsoft 365, Google), nor the refreshing of the token file, which is the council's
token refresher's job, outside the service."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from pysasl.creds.external import ExternalVerificationRequired  # type: ignore[import-untyped,unused-ignore]
from pysasl.mechanism import ChallengeResponse  # type: ignore[import-untyped,unused-ignore]
from pysasl.mechanism.oauth import OAuth2Mechanism  # type: ignore[import-untyped,unused-ignore]

from core.settings import Settings
from inbound import imap
from inbound.store import MailboxCursors
from tests.api_helpers import settings_for

USER = "complaints@council.example"


@dataclass
class Mailbox:
    """An IMAP server that knows XOAUTH2 and an empty INBOX, and keeps what each client sent."""

    valid_token: str
    port: int = 0
    commands: list[str] = field(default_factory=list)
    signed_in: list[tuple[str, str]] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] test mailbox ready\r\n")
        while line := await reader.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command = rest.split(" ")[0].upper()
            self.commands.append(command if command != "UID" else " ".join(rest.split(" ")[:2]).upper())
            if command == "CAPABILITY":
                writer.write(f"* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2\r\n{tag} OK done\r\n".encode())
            elif command == "AUTHENTICATE":
                writer.write(f"{tag} {self._authenticate(rest)}\r\n".encode())
            elif command == "SELECT":
                writer.write(
                    f"* 0 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n{tag} OK [READ-WRITE] done\r\n".encode()
                )
            elif command == "UID":
                writer.write(f"* SEARCH\r\n{tag} OK done\r\n".encode())
            elif command == "LOGOUT":
                writer.write(f"* BYE\r\n{tag} OK done\r\n".encode())
                await writer.drain()
                break
            else:
                writer.write(f"{tag} NO not here\r\n".encode())
            await writer.drain()
        writer.close()

    def _authenticate(self, rest: str) -> str:
        mechanism, _, initial = rest.removeprefix("AUTHENTICATE ").partition(" ")
        if mechanism.upper() != "XOAUTH2":
            return "NO unsupported mechanism"
        creds, _ = OAuth2Mechanism().server_attempt([ChallengeResponse(b"", base64.b64decode(initial))])
        try:  # as a server verifies them: the mechanism hands the bearer token over for an outside check
            creds.verify(None)
        except ExternalVerificationRequired as needed:
            token = str(needed.token)
        self.signed_in.append((creds.authzid, token))
        return "OK signed in" if token == self.valid_token else "NO invalid token"


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox(valid_token="ya29.first")
    server = await asyncio.start_server(box.serve, "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    async with server:
        yield box


def _settings(mailbox: Mailbox, token_file: Path) -> Settings:
    return settings_for("unused").model_copy(
        update={
            "inbound_mode": "imap",
            "inbound_imap_host": "127.0.0.1",
            "inbound_imap_port": mailbox.port,
            "inbound_imap_tls": False,
            "inbound_imap_username": USER,
            "inbound_imap_oauth_token_file": token_file,
        }
    )


async def _nothing(raw: bytes, recipients: list[str], arrived: object) -> None:
    raise AssertionError("the mailbox is empty: nothing to receive")


async def test_the_poller_signs_in_with_xoauth2_and_the_token_of_the_moment(
    mailbox: Mailbox, pool: asyncpg.Pool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token_file = tmp_path / "imap-token"
    token_file.write_text("ya29.first\n")  # as a refresher writes it: with a trailing newline
    settings = _settings(mailbox, token_file)
    cursors = MailboxCursors(pool)

    assert await imap.poll_once(settings, _nothing, cursors) == 0
    assert mailbox.signed_in == [(USER, "ya29.first")]
    assert "AUTHENTICATE" in mailbox.commands and "LOGIN" not in mailbox.commands
    assert "SELECT" in mailbox.commands and "UID SEARCH" in mailbox.commands  # signed in, then read

    # The refresher replaced the token: the next poll signs in with the new one, no restart needed.
    mailbox.valid_token = "ya29.second"
    token_file.write_text("ya29.second\n")
    assert await imap.poll_once(settings, _nothing, cursors) == 0
    assert mailbox.signed_in[-1] == (USER, "ya29.second")

    # A token the mailbox refuses (expired, revoked): the poll stops before reading, no password is tried.
    mailbox.commands.clear()
    token_file.write_text("ya29.expired\n")
    with pytest.raises(imap.MailboxError, match="XOAUTH2 refused"):
        await imap.poll_once(settings, _nothing, cursors)
    assert "SELECT" not in mailbox.commands and "LOGIN" not in mailbox.commands
    assert all(token not in caplog.text for token in ("ya29.first", "ya29.second", "ya29.expired"))
