"""`python -m inbound`: the inbound e-mail process (the SMTP listener or the IMAP poller, per INBOUND_MODE),
with the sweep that routes what an outage left and the purge of messages of no complaint past retention."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime, timedelta

from core.logs import configure_logging
from core.services import Services, open_services
from core.settings import get_settings, inbound_production_problems
from inbound import held_later, imap, smtp
from inbound.claims import settle_lapsed_claims
from inbound.receive import receive, sweep
from inbound.store import MailboxCursors, purge_unlinked

log = logging.getLogger("inbound")
SWEEP_SECONDS = 60.0


async def housekeeping(services: Services, stop: asyncio.Event) -> None:
    """Every minute: route what was left unfinished, settle the triage decisions whose request died
    (inbound/claims.py), move what a held submission's sender sent during one (inbound/held_later.py), and
    destroy decided messages of no complaint that are past INBOUND_RETENTION_DAYS."""
    while not stop.is_set():
        try:
            await sweep(services)
            await settle_lapsed_claims(services)
            await held_later.settle_left(services)
            cutoff = datetime.now(UTC) - timedelta(days=services.settings.inbound_retention_days)
            purged = await purge_unlinked(services.pool, decided_before=cutoff)
            if purged:
                log.info("inbound messages past retention destroyed: %s", purged)
        except Exception as error:
            log.warning("inbound housekeeping failed (%s); trying again in a minute", type(error).__name__)
        try:
            await asyncio.wait_for(stop.wait(), SWEEP_SECONDS)
        except TimeoutError:
            pass


async def run() -> None:
    settings = get_settings()
    if settings.inbound_mode == "off":
        log.info("INBOUND_MODE=off: no inbound e-mail")
        return
    if settings.inbound_mode == "imap" and not (
        settings.inbound_imap_host and settings.inbound_imap_username
    ):
        raise SystemExit("INBOUND_MODE=imap needs INBOUND_IMAP_HOST and INBOUND_IMAP_USERNAME")
    refused = inbound_production_problems(settings)
    if refused:
        raise SystemExit("; ".join(refused.values()))
    # Sized and connected like the API: a small pool, and Temporal connected lazily with bounded calls, so
    # mail is still taken and stored while Temporal is down (the sweep routes it once it is back).
    services = await open_services(settings, "api", for_api=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    async def take(raw: bytes, recipients: list[str]) -> None:
        await receive(services, raw, recipients=recipients, source=settings.inbound_mode)

    async def take_polled(raw: bytes, recipients: list[str], arrived_at: datetime | None) -> None:
        # Received when the mailbox received it (INTERNALDATE), not when it was polled.
        await receive(services, raw, recipients=recipients, source="imap", arrived_at=arrived_at)

    tasks = [asyncio.create_task(housekeeping(services, stop))]
    server = None
    try:
        if settings.inbound_mode == "smtp":
            server = await smtp.start_listener(settings, take)
            log.info(
                "inbound SMTP listening on %s:%s", settings.inbound_smtp_host, settings.inbound_smtp_port
            )
        else:
            tasks.append(
                asyncio.create_task(
                    imap.poll_forever(settings, take_polled, MailboxCursors(services.pool), stop)
                )
            )
            log.info("inbound IMAP polling every %s s", settings.inbound_imap_poll_seconds)
        await stop.wait()
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await services.pool.close()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run())


if __name__ == "__main__":
    main()
