"""Polling a shared mailbox over IMAP (aioimaplib), for councils whose mail stays in their own mail service.

Each poll reads the messages of INBOUND_IMAP_MAILBOX past the last UID it read (kept in PostgreSQL with the
mailbox's UIDVALIDITY, migration 262), not the unseen ones: a message a person opened in the shared mailbox
first is still read. Each is fetched without marking it (BODY.PEEK) with its INTERNALDATE (when the mailbox
received it: the complaint's date of receipt, not the poll's), handed to the receiver, and marked \\Seen once
stored. The cursor moves over the messages stored in a row: one that could not be stored is read again at the
next poll (with those after it, which the Message-ID key makes add nothing); a new UIDVALIDITY reads all.
Sign-in is LOGIN with a password, or XOAUTH2 with an access token read afresh from
INBOUND_IMAP_OAUTH_TOKEN_FILE at every poll (kept current by the council's token refresher: Microsoft 365
and Google accept no password for IMAP).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime

import aioimaplib

from core.settings import Settings
from inbound.store import MailboxCursors

log = logging.getLogger(__name__)
# The raw message, its envelope recipients (none over IMAP) and when the mailbox received it.
Receiver = Callable[[bytes, list[str], datetime | None], Awaitable[object]]
UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)", re.IGNORECASE)
INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"', re.IGNORECASE)
TIMEOUT = 30.0


class MailboxError(RuntimeError):
    """The mailbox refused a step (sign-in, select, search): nothing was read."""


def _ok(response: aioimaplib.Response, step: str) -> aioimaplib.Response:
    if response.result != "OK":
        raise MailboxError(f"IMAP {step} refused: {response.result}")
    return response


async def _sign_in(client: aioimaplib.IMAP4, settings: Settings) -> None:
    user = settings.inbound_imap_username or ""
    if settings.inbound_imap_oauth_token_file is not None:
        token = settings.inbound_imap_oauth_token_file.read_text().strip()
        # aioimaplib writes the token into the SASL string with an f-string: it takes text, whatever its
        # annotation says (bytes would be sent as "b'...'").
        _ok(await client.xoauth2(user, token), "XOAUTH2")
        return
    password = settings.inbound_imap_password.get_secret_value() if settings.inbound_imap_password else ""
    _ok(await client.login(user, password), "LOGIN")


def _literal(response: aioimaplib.Response) -> bytes | None:
    """The message's bytes in a FETCH answer (the literal that follows `BODY[] {n}`)."""
    for line in response.lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None


def _internal_date(response: aioimaplib.Response) -> datetime | None:
    """The INTERNALDATE of a FETCH answer ("06-Dec-2026 23:00:00 +0000"), or None."""
    for line in response.lines:
        if isinstance(line, bytes | bytearray) and (match := INTERNALDATE.search(bytes(line))):
            try:
                return datetime.strptime(match.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
            except ValueError:
                return None
    return None


def _uid_validity(response: aioimaplib.Response) -> int:
    for line in response.lines:
        if isinstance(line, bytes | bytearray) and (match := UIDVALIDITY.search(bytes(line))):
            return int(match.group(1))
    raise MailboxError("IMAP SELECT gave no UIDVALIDITY")


async def poll_once(settings: Settings, receiver: Receiver, cursors: MailboxCursors) -> int:
    """Read every message past the cursor once; returns how many were handed to the receiver."""
    host = settings.inbound_imap_host or "127.0.0.1"
    port = settings.inbound_imap_port
    client: aioimaplib.IMAP4 = (
        aioimaplib.IMAP4_SSL(host=host, port=port, timeout=TIMEOUT)
        if settings.inbound_imap_tls
        else aioimaplib.IMAP4(host=host, port=port, timeout=TIMEOUT)
    )
    await client.wait_hello_from_server()
    handed = 0
    try:
        await _sign_in(client, settings)
        validity = _uid_validity(_ok(await client.select(settings.inbound_imap_mailbox), "SELECT"))
        mailbox = f"{user_of(settings)}@{host}:{port}/{settings.inbound_imap_mailbox}"
        cursor = await cursors.get(mailbox)
        last = cursor[1] if cursor is not None and cursor[0] == validity else 0
        found = _ok(await client.uid_search(f"UID {last + 1}:*"), "SEARCH")
        first = found.lines[0].decode(errors="replace") if found.lines else ""
        # "n:*" always names the highest UID, even one below n: only those past the cursor are new.
        uids = sorted(int(token) for token in first.split() if token.isdigit() and int(token) > last)
        in_a_row = True
        for uid in uids:
            fetched = await client.uid("fetch", str(uid), "(INTERNALDATE BODY.PEEK[])")
            raw = _literal(fetched) if fetched.result == "OK" else None
            if raw is None:
                in_a_row = False
                continue
            try:
                await receiver(raw, [], _internal_date(fetched))
            except Exception as error:  # one message that cannot be stored must not stop the others
                # By UID and error type only: an error's text may quote the message.
                log.warning(
                    "inbound IMAP message UID %s not stored (%s): retried next poll",
                    uid,
                    type(error).__name__,
                )
                in_a_row = False
                continue
            if in_a_row:
                await cursors.put(mailbox, uid_validity=validity, last_uid=uid)
            await client.uid("store", str(uid), "+FLAGS.SILENT", "(\\Seen)")
            handed += 1
        if not uids and cursor is not None and cursor[0] != validity:
            await cursors.put(mailbox, uid_validity=validity, last_uid=0)
    finally:
        try:
            await client.logout()
        except (aioimaplib.Abort, OSError, TimeoutError):
            pass
    return handed


def user_of(settings: Settings) -> str:
    return settings.inbound_imap_username or ""


async def poll_forever(
    settings: Settings, receiver: Receiver, cursors: MailboxCursors, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            await poll_once(settings, receiver, cursors)
        except Exception as error:  # the mailbox or the database is down: the messages wait in the mailbox
            log.warning(
                "inbound IMAP poll failed (%s); next poll in %s s",
                type(error).__name__,
                settings.inbound_imap_poll_seconds,
            )
        try:
            await asyncio.wait_for(stop.wait(), settings.inbound_imap_poll_seconds)
        except TimeoutError:
            pass
