"""Limits on what residents can do without signing in, counted in Postgres (so every API process shares them)
in fixed windows, each limit with its own key, allowance and window (settings `RESIDENT_*`).

- Wrong access codes, per complaint reference and per client address. Only wrong codes are counted and only
  wrong codes are ever refused: a right code is checked first and always works, so a resident is never
  locked out by someone else's mistakes (one person mistyping, or a script guessing, behind the same proxy or
  carrier NAT). Past the allowance, further wrong codes get 429 with Retry-After instead of 404: the codes are
  long random values, so guessing is hopeless anyway; the limit only stops noise and abuse.
- Complaints made and access links asked for, per client address and per e-mail address: past the allowance
  the request is refused with 429, a clear message and Retry-After.
- Complaints started on the question pages (a draft stored, at the first answer), per client address: past
  the allowance no draft is made, and the page says (429, Retry-After) when to try again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api.errors import ProblemError
from core.settings import Settings
from store.resident_access import ResidentAccessRepository

TOO_MANY = "too-many-attempts"


@dataclass(frozen=True)
class Limit:
    key: str
    allowed: int
    window: timedelta


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def email_key(email: str) -> str:
    """E-mail addresses are counted by hash: the counters hold no personal data."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]


class TooMany(ProblemError):
    """429: `first` is the first refusal of its window (for a limit whose staff are told once)."""

    first: bool = False


def too_many(detail: str, retry_after: int, *, first: bool = False) -> TooMany:
    error = TooMany(429, "Too many attempts", detail, TOO_MANY)
    error.headers = {"Retry-After": str(retry_after)}
    error.first = first
    return error


def _hours(seconds: int) -> str:
    if seconds < 3600:
        return minutes(seconds)
    count = -(-seconds // 3600)
    return f"{count} hour{'s' if count != 1 else ''}"


def minutes(seconds: int) -> str:
    count = max(1, -(-seconds // 60))
    return f"{count} minute{'s' if count != 1 else ''}"


class Limiter:
    def __init__(self, repository: ResidentAccessRepository, settings: Settings) -> None:
        self._repository = repository
        self._settings = settings

    # ---------------------------------------------------------------------------------------- the limits

    def wrong_code_limits(self, *, client_ip: str, reference: str) -> list[Limit]:
        settings = self._settings
        window = timedelta(minutes=settings.resident_wrong_code_window_minutes)
        return [
            Limit(f"wrong:ref:{reference}", settings.resident_wrong_codes_per_reference, window),
            Limit(f"wrong:addr:{client_ip}", settings.resident_wrong_codes_per_address, window),
        ]

    def complaint_limits(self, *, client_ip: str, email: str) -> list[Limit]:
        settings = self._settings
        window = timedelta(minutes=settings.resident_request_window_minutes)
        limits = [Limit(f"create:addr:{client_ip}", settings.resident_complaints_per_address, window)]
        if email:  # a complaint made with no e-mail address at all is counted by the client address only
            per_email = settings.resident_complaints_per_email
            limits.append(Limit(f"create:email:{email_key(email)}", per_email, window))
        return limits

    def draft_limits(self, *, client_ip: str) -> list[Limit]:
        # Each draft is a row kept for hours: a script must not be able to fill the table.
        settings = self._settings
        window = timedelta(minutes=settings.resident_request_window_minutes)
        return [Limit(f"draft:addr:{client_ip}", settings.resident_drafts_per_address, window)]

    def link_request_limits(self, *, client_ip: str) -> list[Limit]:
        settings = self._settings
        window = timedelta(minutes=settings.resident_request_window_minutes)
        return [Limit(f"link:addr:{client_ip}", settings.resident_link_requests_per_address, window)]

    def link_email_limit(self, email: str) -> Limit:
        # Counted only for a request that matched a complaint's address: anyone can type an e-mail address
        # with made-up references, and must not spend its owner's allowance that way.
        settings = self._settings
        window = timedelta(minutes=settings.resident_request_window_minutes)
        return Limit(f"link:email:{email_key(email)}", settings.resident_link_requests_per_email, window)

    def complaint_link_limit(self, reference: str) -> Limit:
        # A mail bomb is not a feature: at most so many links per complaint, whoever asks.
        settings = self._settings
        window = timedelta(minutes=settings.resident_request_window_minutes)
        return Limit(f"link:ref:{reference}", settings.resident_link_requests_per_complaint, window)

    def writing_limit(self, reference: str) -> Limit:
        """Messages and evidence the resident sends online on one complaint, per day: enough for anyone with
        something to tell us, not enough to bury the case (and its officer) under a flood."""
        return Limit(f"write:ref:{reference}", self._settings.resident_messages_per_day, timedelta(days=1))

    # -------------------------------------------------------------------------------------- counting

    async def count(self, limits: list[Limit]) -> int | None:
        """Count one against every limit; None if all are within their allowance, else the seconds until
        the last exceeded window ends (when the request may be tried again)."""
        now = await self._repository.now()
        wait: int | None = None
        for limit in limits:
            start = window_start(now, limit.window)
            if await self._repository.count(key=limit.key, window_start=start) > limit.allowed:
                seconds = max(1, int((start + limit.window - now).total_seconds()) + 1)
                wait = max(wait or 0, seconds)
        # Old windows are worthless: drop them as we go (an index on window_start keeps this cheap).
        await self._repository.forget_windows_before(before=now - 2 * self._longest_window())
        return wait

    def _longest_window(self) -> timedelta:
        settings = self._settings
        return timedelta(
            minutes=max(settings.resident_wrong_code_window_minutes, settings.resident_request_window_minutes)
        )

    async def wrong_code(self, *, client_ip: str, reference: str) -> None:
        """Count a wrong code; raise 429 once the complaint's or the address's allowance is used up."""
        wait = await self.count(self.wrong_code_limits(client_ip=client_ip, reference=reference))
        if wait is not None:
            raise too_many(
                "too many wrong access codes were tried for this complaint or from your network: check the"
                f" code (or use the link we e-mailed you) and try again in {minutes(wait)}; a right code"
                " works at any time",
                wait,
            )

    async def complaint_made(self, *, client_ip: str, email: str) -> None:
        wait = await self.count(self.complaint_limits(client_ip=client_ip, email=email))
        if wait is not None:
            raise too_many(
                "too many complaints were made from your network or for this e-mail address in a short time:"
                f" try again in {minutes(wait)}, or contact the council by phone or letter",
                wait,
            )

    async def draft_made(self, *, client_ip: str) -> None:
        wait = await self.count(self.draft_limits(client_ip=client_ip))
        if wait is not None:
            raise too_many(
                "too many complaints were started from your network in a short time, so we could not keep"
                f" your answer: try again in {minutes(wait)}, or contact the council by phone or letter",
                wait,
            )

    async def resident_wrote(self, *, reference: str) -> None:
        """Count a message or file sent on the complaint. Past the day's allowance: 429 with words a resident
        understands; the refusal is `first` once a day (the officer is told, once)."""
        limit = self.writing_limit(reference)
        now = await self._repository.now()
        start = window_start(now, limit.window)
        sent = await self._repository.count(key=limit.key, window_start=start)
        if sent <= limit.allowed:
            return
        wait = max(1, int((start + limit.window - now).total_seconds()) + 1)
        raise too_many(
            f"You have sent us {limit.allowed} messages or files about this complaint today, which is as many"
            " as we can take online in one day. Everything you have sent has reached us. You can send more"
            f" in {_hours(wait)}. If something is urgent, please phone us.",
            wait,
            first=sent == limit.allowed + 1,
        )

    async def link_requested(self, *, client_ip: str) -> None:
        wait = await self.count(self.link_request_limits(client_ip=client_ip))
        if wait is not None:
            raise too_many(
                "too many new links were asked for from your network or for this e-mail address: check your"
                f" e-mail (links can take a few minutes) or try again in {minutes(wait)}",
                wait,
            )

    async def allow_link_for(self, reference: str, email: str) -> bool:
        """Count one access-link e-mail for the complaint and its (matched) address; False once either
        window's allowance is used (the answer stays the same: it must not tell that the address matched)."""
        return await self.count([self.complaint_link_limit(reference), self.link_email_limit(email)]) is None
