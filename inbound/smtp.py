"""The SMTP listener (aiosmtpd): takes mail for any address on INBOUND_SMTP_HOST:INBOUND_SMTP_PORT.

In production it sits behind the council's mail relay: only the addresses in INBOUND_SMTP_ALLOWED_RELAYS may
hand mail over, and with INBOUND_SMTP_TLS_CERT/KEY it offers STARTTLS and requires it before any mail. A
message is accepted (250) only once it is stored: if PostgreSQL cannot take it the sender is told to try again
later (451), so the relay keeps it and nothing is lost.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
from collections.abc import Awaitable, Callable

from aiosmtpd.smtp import SMTP, Envelope, Session

from core.settings import Settings

log = logging.getLogger(__name__)
Receiver = Callable[[bytes, list[str]], Awaitable[object]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_relays(setting: str) -> list[Network]:
    return [ipaddress.ip_network(item.strip(), strict=False) for item in setting.split(",") if item.strip()]


class InboundHandler:
    """aiosmtpd handler: checks the relay, hands each message to `receiver` and answers once it is stored."""

    def __init__(self, receiver: Receiver, relays: list[Network]) -> None:
        self._receiver = receiver
        self._relays = relays

    def _relay_allowed(self, session: Session) -> bool:
        if not self._relays:
            return True
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self._relays)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not self._relay_allowed(session):
            log.warning("inbound SMTP: a connection from an address not allowed to relay was refused")
            return "550 5.7.1 Relay not allowed from this address"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)  # any address: the routing reads the plus-address
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or (
            envelope.content if isinstance(envelope.content, bytes) else b""
        )
        try:
            await self._receiver(bytes(content or b""), list(envelope.rcpt_tos))
        except Exception as error:  # by type only: an error's text may quote the message
            log.warning(
                "inbound SMTP: a message could not be stored (%s); asked to retry", type(error).__name__
            )
            return "451 4.3.0 Temporary failure: please try again later"
        return "250 Message accepted"


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.inbound_smtp_tls_cert is None or settings.inbound_smtp_tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.inbound_smtp_tls_cert, settings.inbound_smtp_tls_key)
    return context


async def start_listener(
    settings: Settings, receiver: Receiver, *, port: int | None = None
) -> asyncio.Server:
    """Listen in the running event loop; the caller closes the returned server."""
    # aiosmtpd logs every envelope address at INFO: no personal data in the service's logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    context = tls_context(settings)
    handler = InboundHandler(receiver, allowed_relays(settings.inbound_smtp_allowed_relays))
    # Messages past the size limit are still taken (and kept in triage unprocessed), up to a hard ceiling
    # of four times the limit that protects the service's memory.
    ceiling = settings.inbound_max_message_bytes * 4

    def factory() -> SMTP:
        return SMTP(
            handler,
            data_size_limit=ceiling,
            hostname="complaints-inbound",
            tls_context=context,
            require_starttls=context is not None,
            enable_SMTPUTF8=True,
        )

    loop = asyncio.get_running_loop()
    return await loop.create_server(
        factory, host=settings.inbound_smtp_host, port=port or settings.inbound_smtp_port
    )
