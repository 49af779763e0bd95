"""How soon the public form answers a new complaint: never sooner for one held under a contact restriction.

Issue 29 (11): a web complaint from an address whose new online complaints are restricted is held for triage
(api/resident/withheld.py) and answered word for word as any complaint is. But the held path starts no
Temporal workflow, so it answered sooner (medians on the test server: about 180 ms against 320 ms), and a
stranger timing the answer could still tell who is restricted. The standard mitigation for a timing oracle:
the held answer is not sent before a moment drawn from what recent normal web intakes took.

Each normal intake records how long it took, measured around the same span of work in the same code path
(`service.create`, from its start to its answer), in a small rolling window of this process; a held one then
waits, with `asyncio.sleep`, for the rest of one of those durations picked at random, so its answer times
follow the same distribution. Before any normal intake was seen it waits a duration drawn around what a normal
intake takes; never more than `CAP_SECONDS` in all, so a slow outage does not hold back held answers for long.
Normal complaints are never delayed.

The window holds durations only (numbers): nothing of a person, a reference or a request. API process only:
it reads the clock and draws random numbers, so workflow code never uses it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable

# The last normal intakes whose durations a held answer is drawn from (enough for the distribution's shape,
# few enough to follow a change of load within minutes).
WINDOW = 64
# Before any normal intake was seen in this process: a duration drawn between these (seconds), around the
# median a normal web intake took on the test server (bench/).
DEFAULT_SECONDS = (0.25, 0.45)
# A held answer is never held back past this moment after its start (seconds), however slow normal intakes
# were (an outage of Temporal makes them slow).
CAP_SECONDS = 3.0


class AnswerTiming:
    """The per-process window of normal intakes' durations, and the wait it sets a held answer.

    `clock`, `sleep` and `draw` are injected by tests (no real time passes there)."""

    def __init__(
        self,
        *,
        window: int = WINDOW,
        cap: float = CAP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        draw: random.Random | None = None,
    ) -> None:
        self._normal: deque[float] = deque(maxlen=window)
        self._cap = cap
        self._clock = clock
        self._sleep = sleep
        # Not predictable from earlier draws, as the module's shared generator would be.
        self._draw = draw or random.SystemRandom()

    @property
    def durations(self) -> tuple[float, ...]:
        """The normal intakes' durations kept (the most recent last): all this holds."""
        return tuple(self._normal)

    def started(self) -> float:
        """The moment an intake started (on this object's clock)."""
        return self._clock()

    def normal_answered(self, started: float) -> None:
        """A normal intake that started at `started` is answered now: its duration joins the window."""
        self._normal.append(max(0.0, self._clock() - started))

    async def held_answered(self, started: float) -> None:
        """A held intake that started at `started` is ready: wait until a drawn normal duration has passed
        since then (nothing is recorded: held answers must not shape what they are drawn from)."""
        remaining = self.wait_for() - (self._clock() - started)
        if remaining > 0:
            await self._sleep(remaining)

    def wait_for(self) -> float:
        """How long, from its start, a held answer takes: one recent normal intake's duration (a default
        before any was seen), at most the cap."""
        if self._normal:
            drawn = self._draw.choice(self._normal)
        else:
            drawn = self._draw.uniform(*DEFAULT_SECONDS)
        return min(drawn, self._cap)
