"""Rate limiter and concurrency gate on a manual clock; retry delays; poll pacing."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hailuo_batch.core.capabilities import Rate, parse_rate
from hailuo_batch.core.clock import ManualClock
from hailuo_batch.core.http import TaskStatus, parse_retry_after
from hailuo_batch.policy.limits import ConcurrencyGate, RateLimiter, SubmitWindow, window_size
from hailuo_batch.policy.polling import PAD, next_poll_delay
from hailuo_batch.policy.retry import MAX_RETRY_AFTER, Backoff


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 20), st.sampled_from([1.0, 60.0]), st.integers(5, 60))
def test_limiter_never_exceeds_its_rate(count: int, per: float, arrivals: int) -> None:
    """In any window of `per` seconds at most `count` (the burst) + count acquisitions pass."""

    async def scenario() -> list[float]:
        clock = ManualClock()
        limiter = RateLimiter(Rate(count, per), clock)
        times = []
        for _ in range(arrivals):
            await limiter.acquire()
            times.append(clock.now())
        return times

    times = asyncio.run(scenario())
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t < start + per)
        assert in_window <= 2 * count
    if arrivals > count:  # after the burst, events are spaced per/count apart
        assert times[-1] - times[0] >= (arrivals - count) * per / count - 1e-6


def test_pause_until_holds_every_caller() -> None:
    async def scenario() -> float:
        clock = ManualClock()
        limiter = RateLimiter(Rate(100, 1.0), clock)
        limiter.pause_until(clock.now() + 7.5)
        start = clock.now()
        await limiter.acquire()
        return clock.now() - start

    assert asyncio.run(scenario()) == pytest.approx(7.5)


def test_gate_shrinks_and_grows_back_to_its_ceiling() -> None:
    async def scenario() -> list[int]:
        gate = ConcurrencyGate(8)
        gate.shrink()
        gate.shrink()
        seen = [gate.limit]
        for _ in range(10):
            gate.grow()
        seen.append(gate.limit)
        return seen

    assert asyncio.run(scenario()) == [2, 8]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "1500"}, 1.5),
        (
            {
                "retry-after": "Wed, 21 Oct 2026 07:28:30 GMT",
                "date": "Wed, 21 Oct 2026 07:28:00 GMT",
            },
            30.0,
        ),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    rng = random.Random(0)
    backoff = Backoff(initial=1.0, multiplier=2.0, cap=10.0, jitter=0.5)
    delays = [backoff.delay(n, rng) for n in range(1, 8)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0
    assert all(d <= 10.0 for d in delays)
    assert backoff.delay(3, rng, retry_after=4.0) == 4.0
    assert backoff.delay(3, rng, retry_after=10_000) == MAX_RETRY_AFTER


def test_poll_lands_at_the_providers_eta() -> None:
    """A whole-percent progress reads as the middle of its step: 50 % is 50.5 %."""
    running = TaskStatus("running", "PROCESSING", progress=0.5, eta=3.0)
    assert next_poll_delay(running, age=2.0, typical=None) == pytest.approx(
        2.0 * 0.495 / 0.505 + PAD
    )
    rounded_eta = TaskStatus("running", "PROCESSING", progress=0.75, eta=1.0)
    assert next_poll_delay(rounded_eta, age=0.3, typical=None) == pytest.approx(
        0.3 * 0.245 / 0.755 + PAD
    )
    exact_eta = TaskStatus("running", "PROCESSING", eta=2.0)
    assert next_poll_delay(exact_eta, age=2.0, typical=None) == pytest.approx(2.0 + PAD)
    blind = TaskStatus("running", "Processing")
    assert next_poll_delay(blind, age=1.0, typical=5.0) == pytest.approx(4.0 + PAD)


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("20/min", Rate(20, 60.0)),
        ("2/s", Rate(2, 1.0)),
        ("300/h", Rate(300, 3600.0)),
        ("0/min", None),
        ("fast", None),
    ],
)
def test_parse_rate(text: str, rate: Rate | None) -> None:
    assert parse_rate(text) == rate


def test_window_fills_waiting_slots_fast_and_never_passes_its_ceiling() -> None:
    assert window_size(1, 1.5, 16) == 1
    assert window_size(200, 0.005, 16) == 4  # loopback: a few keep hundreds of slots fed
    assert window_size(50, 1.25, 16) == 16  # a real API's latency: the ceiling
    assert window_size(50, None, 16) == 16  # unmeasured: assume a real API
    assert window_size(3, 2.0, 16) == 3  # never more than are wanted


def test_submit_window_admits_in_order_up_to_its_size() -> None:
    """With a measured 1 s latency, 5 wanted submits all go at once; at 1 ms one at a time."""

    async def scenario(latency: float) -> list[int]:
        window = SubmitWindow(16, lambda: latency)
        in_flight: list[int] = []
        release = asyncio.Event()

        async def submit() -> None:
            async with window:
                in_flight.append(window.in_use)
                await release.wait()

        tasks = [asyncio.ensure_future(submit()) for _ in range(5)]
        await asyncio.sleep(0)
        seen = [len(in_flight)]
        release.set()
        await asyncio.gather(*tasks)
        return [*seen, max(in_flight), window.in_use]

    assert asyncio.run(scenario(1.0)) == [5, 5, 0]
    assert asyncio.run(scenario(0.001)) == [1, 1, 0]


def test_a_cancelled_waiter_hands_its_place_on() -> None:
    async def scenario() -> int:
        gate = ConcurrencyGate(1)
        await gate.acquire()
        first = asyncio.ensure_future(gate.acquire())
        second = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0)
        gate.release()  # the place goes to `first`...
        first.cancel()  # ...which is cancelled before it runs
        await asyncio.sleep(0)
        await asyncio.wait_for(second, 1)
        return gate.in_use

    assert asyncio.run(scenario()) == 1
