"""Concurrent clients that create and acknowledge complaints, and retry as real clients do.

Each complaint is one client's job: POST /api/complaints with an Idempotency-Key, then POST
.../acknowledge with another. A 5xx, a 429, a 409 "in progress" or a broken connection is retried with the
same key and body after Retry-After (capped at a second, so the run stays short), until a deadline. What the
client was finally told is what the checks hold the service to.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.auth import issue_dev_token
from core.settings import Settings
from store.staff import DEMO_STAFF

RETRY_CAP_SECONDS = 1.0
GIVE_UP_AFTER_SECONDS = 180.0


@dataclass
class Tally:
    """Every answer the clients got, and what they were finally told."""

    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    told_exists: dict[int, str] = field(default_factory=dict)  # complaint index -> reference
    told_acknowledged: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)  # final 4xx the client did not expect
    gave_up: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + self.transport_errors

    def by_class(self) -> dict[str, int]:
        counts = {"2xx": 0, "4xx": 0, "5xx": 0}
        for status, count in self.statuses.items():
            key = f"{status // 100}xx"
            if key in counts:
                counts[key] += count
        return counts


def complaint_body(run: str, index: int, received_at: datetime) -> dict[str, Any]:
    return {
        "policy_id": "bexley",
        "received_at": received_at.isoformat(),
        "channel": "email",
        "complainant": {"name": f"Resident {run}-{index}", "email": f"resident-{run}-{index}@example.org"},
        "service_area": "housing-repairs",
        "summary": f"Chaos run {run}, complaint {index}: the damp came back.",
        "desired_outcome": "Fix the damp.",
    }


def _retryable(response: httpx.Response) -> bool:
    if response.status_code >= 500 or response.status_code == 429:
        return True
    if response.status_code == 409:
        return bool(response.json().get("title") == "Request in progress")
    return False


async def call(
    client: httpx.AsyncClient, tally: Tally, method: str, url: str, **kwargs: Any
) -> httpx.Response | None:
    """One request as a real client makes it: the same request again until it gets a real answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GIVE_UP_AFTER_SECONDS
    while loop.time() < deadline:
        try:
            response = await client.request(method, url, **kwargs)
        except (httpx.HTTPError, OSError):
            tally.transport_errors += 1
            await asyncio.sleep(RETRY_CAP_SECONDS * random.random())
            continue
        tally.statuses[response.status_code] += 1
        if not _retryable(response):
            return response
        wait = float(response.headers.get("Retry-After", "1") or 1)
        await asyncio.sleep(min(wait, RETRY_CAP_SECONDS) * (0.5 + random.random() / 2))
    return None


async def run_clients(
    client: httpx.AsyncClient,
    settings: Settings,
    *,
    run: str,
    complaints: int,
    concurrency: int,
    tally: Tally,
    on_done: Callable[[int], None] | None = None,
) -> None:
    """Create and acknowledge `complaints` complaints with `concurrency` clients at once."""
    officer = next(user for user in DEMO_STAFF if user.id == "olivia.officer")
    headers = {"Authorization": f"Bearer {issue_dev_token(officer, settings)}"}
    received_at = datetime.now(UTC) - timedelta(days=1)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(complaints):
        queue.put_nowait(index)
    done = 0

    async def one(index: int) -> None:
        created = await call(
            client,
            tally,
            "POST",
            "/api/complaints",
            json=complaint_body(run, index, received_at),
            headers={**headers, "Idempotency-Key": f"{run}-create-{index}"},
        )
        if created is None:
            tally.gave_up.append(f"create {index}")
            return
        if created.status_code != 201:
            tally.refused.append(f"create {index}: {created.status_code} {created.text[:200]}")
            return
        reference = str(created.json()["reference"])
        tally.told_exists[index] = reference
        acknowledged = await call(
            client,
            tally,
            "POST",
            f"/api/complaints/{reference}/acknowledge",
            json={},
            headers={**headers, "Idempotency-Key": f"{run}-ack-{index}"},
        )
        if acknowledged is None:
            tally.gave_up.append(f"acknowledge {reference}")
        elif acknowledged.status_code == 200:
            tally.told_acknowledged.add(reference)
        elif acknowledged.status_code == 409 and "while the complaint is acknowledged" in acknowledged.text:
            # The first try acted but its answer was lost; the retry is told it is acknowledged already.
            tally.told_acknowledged.add(reference)
        else:
            tally.refused.append(
                f"acknowledge {reference}: {acknowledged.status_code} {acknowledged.text[:200]}"
            )

    async def worker() -> None:
        nonlocal done
        while True:
            try:
                index = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await one(index)
            done += 1
            if on_done is not None:
                on_done(done)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
