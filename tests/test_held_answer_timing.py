"""The public form's answer to a complaint held under a contact restriction comes no sooner than a normal
complaint's (issue 29, point 11: a stranger timing the answer must not learn who is restricted;
api/resident/answer_timing.py). No real time passes here: the clock and the sleep are injected."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from api.resident.answer_timing import CAP_SECONDS, DEFAULT_SECONDS, WINDOW, AnswerTiming
from domain import commands as cmd
from domain.models import ResidentChannel
from tests.factories import OFFICER
from tests.make_journey import answers, make_on_pages, reference_of
from tests.test_contact_restrictions import _complaint, restriction
from tests.test_residents import Stack, make, new_email, stack

__all__ = ["stack"]


class Clock:
    """A monotonic clock the test moves; sleeping moves it too, as a real sleep would."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def timing(clock: Clock, seed: int = 29) -> AnswerTiming:
    return AnswerTiming(clock=clock, sleep=clock.sleep, draw=random.Random(seed))


def normal(answer_timing: AnswerTiming, clock: Clock, took: float) -> None:
    started = answer_timing.started()
    clock.now += took
    answer_timing.normal_answered(started)


async def held(answer_timing: AnswerTiming, clock: Clock, took: float) -> float:
    """A held intake whose own work took `took`: how long its answer took in all."""
    started = answer_timing.started()
    clock.now += took
    await answer_timing.held_answered(started)
    return clock.now - started


async def test_a_held_answer_waits_for_the_rest_of_a_recent_normal_intakes_duration() -> None:
    clock = Clock()
    answer_timing = timing(clock)
    for took in (0.30, 0.32, 0.50):
        normal(answer_timing, clock, took)
    assert clock.slept == []  # a normal complaint is never held back
    totals = [await held(answer_timing, clock, took=0.18) for _ in range(60)]
    # Each held answer took as long as one of the normal ones (drawn at random, so all of them turn up).
    assert {round(total, 6) for total in totals} == {0.30, 0.32, 0.50}
    assert all(round(slept, 6) in (0.12, 0.14, 0.32) for slept in clock.slept)
    # A held intake whose own work took longer than the normal one drawn is not held back further.
    clock.slept.clear()
    assert round(await held(answer_timing, clock, took=0.9), 6) == 0.9
    assert clock.slept == []


async def test_held_answers_record_nothing_and_the_window_keeps_only_recent_normal_durations() -> None:
    clock = Clock()
    answer_timing = timing(clock)
    normal(answer_timing, clock, 0.4)
    for _ in range(5):
        await held(answer_timing, clock, took=0.1)
    assert answer_timing.durations == pytest.approx((0.4,))  # durations only, and none of a held answer
    for index in range(WINDOW + 10):
        normal(answer_timing, clock, 1 + index)
    kept = answer_timing.durations
    assert len(kept) == WINDOW and kept == pytest.approx(tuple(range(11, WINDOW + 11)))


async def test_a_slow_outage_never_holds_a_held_answer_back_past_the_cap() -> None:
    clock = Clock()
    answer_timing = timing(clock)
    normal(answer_timing, clock, 40.0)  # Temporal answering slowly
    assert await held(answer_timing, clock, took=0.2) == pytest.approx(CAP_SECONDS)
    assert clock.slept == [pytest.approx(CAP_SECONDS - 0.2)]
    assert await held(answer_timing, clock, took=CAP_SECONDS + 1) == pytest.approx(CAP_SECONDS + 1)
    assert len(clock.slept) == 1  # past the cap already: no wait at all


async def test_before_any_normal_intake_a_held_answer_takes_a_normal_intakes_usual_time() -> None:
    clock = Clock()
    answer_timing = timing(clock)
    totals = [await held(answer_timing, clock, took=0.05) for _ in range(40)]
    low, high = DEFAULT_SECONDS
    assert all(low <= total <= high for total in totals)
    assert len({round(total, 6) for total in totals}) > 10  # drawn, not one constant
    assert answer_timing.durations == ()


class ScriptedClock:
    """The moments `service.create` reads, in the order the test makes complaints."""

    def __init__(self, moments: list[float]) -> None:
        self._moments: Iterator[float] = iter(moments)
        self.slept: list[float] = []

    def __call__(self) -> float:
        return next(self._moments)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def test_both_public_entry_points_time_held_answers_on_normal_ones(stack: Stack) -> None:
    """The API and the question pages' "Send complaint" record a normal complaint's duration, and hold a
    restricted person's answer back for the rest of one."""
    email = new_email()
    async with stack.client() as client:
        first, _ = await make(client, email=email)
        await stack.staff(first, "acknowledge", cmd.Acknowledge(actor=OFFICER))
        await stack.staff(first, "restrict_contact", restriction(ResidentChannel.NEW_COMPLAINTS))

    app = stack.app_with(resident_complaints_per_email=100, resident_complaints_per_address=100)
    # Start and answer of: a normal complaint (0.5 s) and a held one (0.1 s) on the API, then on the pages.
    clock = ScriptedClock([10.0, 10.5, 20.0, 20.1, 30.0, 30.5, 40.0, 40.2])
    answer_timing = AnswerTiming(clock=clock, sleep=clock.sleep)
    app.state.answer_timing = answer_timing
    async with stack.client(app=app) as client:
        made = await client.post("/api/public/complaints", json=_complaint(new_email()))
        assert made.status_code == 201, made.text
        assert answer_timing.durations == pytest.approx((0.5,)) and clock.slept == []
        held = await client.post("/api/public/complaints", json=_complaint(email))
        assert held.status_code == 201, held.text
        assert answer_timing.durations == pytest.approx((0.5,)) and clock.slept == [pytest.approx(0.4)]
    for address in (new_email(), email):
        async with stack.client(app=app) as browser:
            sent = await make_on_pages(browser, answers(email=address))
            assert sent.status_code == 200, sent.text
            reference_of(sent.text)
    assert answer_timing.durations == pytest.approx((0.5, 0.5))
    assert clock.slept == [pytest.approx(0.4), pytest.approx(0.3)]
    # The held ones were held (no complaint opened), the normal ones opened.
    opened = await stack.pool.fetchval(
        "SELECT count(*) FROM complaints WHERE reference = $1", held.json()["reference"]
    )
    assert opened == 0
