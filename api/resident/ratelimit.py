"""Limit token guessing: failed attempts are counted per client address and per complaint reference in
fixed windows (in Postgres, so every API process shares them); past the limit every attempt, right or
wrong, is refused with 429 and Retry-After until the window ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.errors import ProblemError
from store.resident_access import ResidentAccessRepository

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)
# At most this many access-link e-mails per complaint per window (a mail bomb is not a feature).
MAX_LINK_REQUESTS = 3


def window_start(now: datetime, window: timedelta = WINDOW) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def guess_keys(client_ip: str, reference: str) -> list[str]:
    return [f"ip:{client_ip}", f"ref:{reference}"]


class GuessLimiter:
    def __init__(self, repository: ResidentAccessRepository) -> None:
        self._repository = repository

    async def check(self, keys: list[str]) -> None:
        """Raise 429 when any key has used up its failures in the current window."""
        now = await self._repository.now()
        start = window_start(now)
        if await self._repository.failures(keys=keys, window_start=start) >= MAX_FAILURES:
            retry_after = max(1, int((start + WINDOW - now).total_seconds()) + 1)
            error = ProblemError(
                429,
                "Too many attempts",
                "too many wrong access tokens: try again later",
                "too-many-attempts",
            )
            error.headers = {"Retry-After": str(retry_after)}
            raise error

    async def failed(self, keys: list[str]) -> None:
        now = await self._repository.now()
        start = window_start(now)
        await self._repository.count_failure(keys=keys, window_start=start)
        # Old windows are worthless: drop them as we go (an index on window_start keeps this cheap).
        await self._repository.forget_windows_before(before=start - WINDOW)

    async def allow_link_request(self, reference: str) -> bool:
        """Count one access-link request for the complaint; False once the window's allowance is used."""
        start = window_start(await self._repository.now())
        key = f"link:{reference}"
        await self._repository.count_failure(keys=[key], window_start=start)
        return await self._repository.failures(keys=[key], window_start=start) <= MAX_LINK_REQUESTS
