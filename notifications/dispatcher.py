"""The outbox dispatcher: a loop in the worker process that sends what no activity has sent.

The `deliver_event` activity sends an event's messages straight after the workflow records it; the dispatcher
catches everything else: messages waiting for a retry (backoff), rows written outside a workflow (the API),
and claims left behind by a sender that stopped (those become 'uncertain', never sent twice).

Any number of dispatchers may run (one per worker): rows are picked with `FOR UPDATE SKIP LOCKED`, and
`deliver_one` re-checks each row under its own lock, so each message is claimed by exactly one of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import asyncpg

from domain.policy import Policy
from notifications.channels import Sender
from notifications.delivery import DeliveryOptions, deliver_one

log = logging.getLogger(__name__)

_DUE = """
SELECT id FROM notifications
WHERE ((status = 'pending' AND next_attempt_at <= now())
    OR (status = 'sending' AND claimed_at < now() - $2::interval))
  AND id <> ALL($3::text[])
ORDER BY next_attempt_at, id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""


class OutboxDispatcher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sender: Sender,
        policies: Mapping[str, Policy],
        max_attempts: int | None = None,
        poll_interval: float = 5.0,
        *,
        options: DeliveryOptions | None = None,
        batch_size: int = 20,
    ) -> None:
        self._pool = pool
        self._sender = sender
        self._policies = policies
        self._options = options or DeliveryOptions()
        self._max_attempts = max_attempts
        self._poll_interval = poll_interval
        self._batch_size = batch_size

    async def run_once(self) -> int:
        """Deliver every row due now, batch by batch; return how many rows were handled."""
        seen: set[str] = set()
        while True:
            batch = await self._next_batch(seen)
            if not batch:  # nothing due, or only rows this pass already tried (they wait for the next poll)
                return len(seen)
            for notification_id in batch:
                await self._deliver(notification_id)
            seen.update(batch)

    async def run(self) -> None:
        """Poll until cancelled. A database hiccup is logged and retried at the next poll."""
        log.info(
            "outbox dispatcher polling every %.1fs (channel %s)", self._poll_interval, self._sender.channel
        )
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox dispatcher pass failed; retrying in %.1fs", self._poll_interval)
            await asyncio.sleep(self._poll_interval)

    async def _next_batch(self, seen: set[str]) -> list[str]:
        # The row locks only keep two dispatchers from picking the same batch at the same moment; the real
        # guard is deliver_one, which locks and re-checks each row before claiming it.
        async with self._pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(_DUE, self._batch_size, self._options.claim_timeout, list(seen))
        return [row["id"] for row in rows]

    async def _deliver(self, notification_id: str) -> None:
        try:
            status = await deliver_one(
                self._pool,
                self._sender,
                self._policies,
                notification_id,
                max_attempts=self._max_attempts,
                options=self._options,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivering notification %s failed", notification_id)
        else:
            log.info("notification %s: %s", notification_id, status)
