"""Polling a shared mailbox over IMAP (aioimaplib), for councils whose mail stays in their own mail service.

Each poll reads the unseen messages of INBOUND_IMAP_MAILBOX without marking them (BODY.PEEK), hands each to
the receiver, and marks it \\Seen only once it is stored: a message the service could not store stays unseen
and is read again at the next poll; one read twice (a mark lost, someone marking it unread) adds nothing,
since messages are kept by Message-ID. Sign-in is LOGIN with a password, or XOAUTH2 with an access token read
afresh from INBOUND_IMAP_OAUTH_TOKEN_FILE at every poll (kept current by the council's token refresher:
Microsoft 365 and Google accept no password for IMAP).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aioimaplib

from core.settings import Settings

log = logging.getLogger(__name__)
Receiver = Callable[[bytes, list[str]], Awaitable[object]]
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


async def poll_once(settings: Settings, receiver: Receiver) -> int:
    """Read every unseen message once; returns how many were handed to the receiver."""
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
        _ok(await client.select(settings.inbound_imap_mailbox), "SELECT")
        found = _ok(await client.uid_search("UNSEEN"), "SEARCH")
        first = found.lines[0].decode(errors="replace") if found.lines else ""
        uids = [token for token in first.split() if token.isdigit()]
        for uid in uids:
            fetched = await client.uid("fetch", uid, "(BODY.PEEK[])")
            raw = _literal(fetched) if fetched.result == "OK" else None
            if raw is None:
                continue
            try:
                await receiver(raw, [])  # raises if it could not be stored: left unseen for the next poll
            except Exception as error:  # one message that cannot be stored must not stop the others
                # By UID and error type only: an error's text may quote the message.
                log.warning(
                    "inbound IMAP message UID %s not stored (%s): retried next poll",
                    uid,
                    type(error).__name__,
                )
                continue
            await client.uid("store", uid, "+FLAGS.SILENT", "(\\Seen)")
            handed += 1
    finally:
        try:
            await client.logout()
        except (aioimaplib.Abort, OSError, TimeoutError):
            pass
    return handed


async def poll_forever(settings: Settings, receiver: Receiver, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await poll_once(settings, receiver)
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
