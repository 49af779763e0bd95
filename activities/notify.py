"""The delivery activity: send the messages of one workflow event, straight after the workflow records it.

It never fails on a mail server being down: a message that could not go out goes back to the outbox
('pending', with backoff) and the dispatcher (notifications/dispatcher.py) retries it, so the workflow never
waits on e-mail. Retrying the activity is always safe: each message is claimed once
(notifications/delivery.py).
"""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg
from pydantic import BaseModel
from temporalio import activity

from domain.policy import Policy
from notifications.channels import Sender
from notifications.delivery import DeliveryOptions, deliver_one


class DeliverEvent(BaseModel):
    workflow_id: str
    seq: int


class NotifyActivities:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sender: Sender,
        policies: Mapping[str, Policy],
        max_attempts: int | None = None,
        *,
        options: DeliveryOptions | None = None,
    ) -> None:
        self._pool = pool
        self._sender = sender
        self._policies = policies
        self._max_attempts = max_attempts
        self._options = options

    @activity.defn(name="deliver_event")
    async def deliver_event(self, request: DeliverEvent) -> list[str]:
        """Deliver every message of the event (workflow_id, seq); return their statuses, in id order.

        'pending' means it will be retried by the dispatcher; 'sending' that another sender has it in hand.
        """
        ids = await self._pool.fetch(
            "SELECT id FROM notifications WHERE workflow_id = $1 AND seq = $2 ORDER BY id",
            request.workflow_id,
            request.seq,
        )
        statuses: list[str] = []
        for row in ids:
            statuses.append(
                await deliver_one(
                    self._pool,
                    self._sender,
                    self._policies,
                    row["id"],
                    max_attempts=self._max_attempts,
                    options=self._options,
                )
            )
        return statuses
