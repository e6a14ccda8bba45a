"""Keeping inside a provider's limits: `RateLimiter` (submits per period, with a provider-wide
pause), `ConcurrencyGate` (tasks in flight, adaptive) and `SubmitWindow` (submits in
flight, sized from the measured latency). No I/O; time comes from a `Clock`.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable

from hailuo_batch.core.capabilities import Rate
from hailuo_batch.core.clock import Clock

FILL_SECONDS = 0.25  # how soon a submit wanted should be on its way (`window_size`)
UNMEASURED_LATENCY = 1.0  # seconds a submit is assumed to take before one has answered


class RateLimiter:
    """A token bucket: at most `rate.count` acquisitions per `rate.per` seconds.

    Tokens refill continuously at count/per per second up to a burst of `rate.count`
    (aiolimiter's leaky bucket, with our clock). `pause_until(t)` holds every caller
    until monotonic time `t`: how a provider-wide Retry-After is honoured.
    """

    __slots__ = ("_clock", "_level", "_lock", "_paused_until", "_updated", "rate")

    def __init__(self, rate: Rate, clock: Clock) -> None:
        if rate.count < 1 or rate.per <= 0:
            raise ValueError(f"rate must allow at least one event per period (got {rate})")
        self.rate = rate
        self._clock = clock
        self._level = float(rate.count)  # tokens available
        self._updated = clock.now()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        per_second = self.rate.count / self.rate.per
        self._level = min(float(self.rate.count), self._level + (now - self._updated) * per_second)
        self._updated = now

    async def acquire(self) -> None:
        """Wait until one more event is allowed, then take it. Callers are served in order."""
        async with self._lock:
            while True:
                now = self._clock.now()
                if now < self._paused_until:
                    await self._clock.sleep(self._paused_until - now)
                    continue
                self._refill(now)
                if self._level >= 1.0:
                    self._level -= 1.0
                    return
                wait = (1.0 - self._level) * self.rate.per / self.rate.count
                # never sleep below 1 ms: shorter sleeps busy-spin the event loop
                await self._clock.sleep(max(wait, 0.001))

    def pause_until(self, deadline: float) -> None:
        """Hold every acquisition until monotonic time `deadline` (keeps the later one)."""
        self._paused_until = max(self._paused_until, deadline)

    def __repr__(self) -> str:
        wake = max(self._paused_until - self._clock.now(), 0.0)
        return f"RateLimiter({self.rate}, level={self._level:.2f}, paused_for={wake:.1f}s)"


class _Gate:
    """Callers in, at most `limit` at once, served in order; the limit may change any time.

    `release` is synchronous, so a place can be handed on from anywhere (a follower that
    sees its task about to end); a free place goes to the longest waiting caller, who
    owns it from then on (no stampede, no overtaking).
    """

    __slots__ = ("_in_use", "_waiters")

    def __init__(self) -> None:
        self._in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def limit(self) -> int:
        raise NotImplementedError

    async def acquire(self) -> None:
        if self._in_use < self.limit and not self._waiters:
            self._in_use += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake()  # the limit may have grown since the last release
        try:
            await waiter  # the place is ours once woken: `_wake` counts it in
        except asyncio.CancelledError:
            if not waiter.cancelled():
                self.release()  # woken, then cancelled: hand the place on
            raise  # (a cancelled waiter left in the queue is skipped by `_wake`)

    def release(self) -> None:
        self._in_use -= 1
        self._wake()

    def _wake(self) -> None:
        """Hand free places to the longest waiting, in order."""
        while self._in_use < self.limit and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._in_use += 1

    @property
    def in_use(self) -> int:
        return self._in_use


class ConcurrencyGate(_Gate):
    """At most `limit` tasks in flight; the cap shrinks when the provider says "too many"
    and grows back by one per success, up to `ceiling` (additive increase,
    multiplicative decrease, as TCP does)."""

    __slots__ = ("_limit", "ceiling")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1 (got {limit})")
        super().__init__()
        self._limit = limit
        self.ceiling = limit

    @property
    def limit(self) -> int:
        return self._limit

    def shrink(self) -> None:
        self._limit = max(1, math.floor(self._limit / 2))

    def grow(self) -> None:
        if self._limit < self.ceiling:
            self._limit += 1
            self._wake()

    def __repr__(self) -> str:
        return f"ConcurrencyGate(in_use={self._in_use}, limit={self._limit}/{self.ceiling})"


class SubmitWindow(_Gate):
    """Submits in flight at once on one provider: as many as fill the slots waiting for a
    submit quickly at the measured latency (`window_size`), never more than `ceiling`.

    The bound that matters for money: a run killed at any instant leaves at most
    `ceiling` submits per provider whose answer it never read, each then reconciled or
    counted as a possible duplicate.
    """

    __slots__ = ("_latency", "_wanted", "ceiling")

    def __init__(self, ceiling: int, latency: Callable[[], float | None]) -> None:
        if ceiling < 1:
            raise ValueError(f"ceiling must be at least 1 (got {ceiling})")
        super().__init__()
        self.ceiling = ceiling
        self._latency = latency
        self._wanted = 0  # submits in flight or waiting to be

    @property
    def limit(self) -> int:
        return window_size(self._wanted, self._latency(), self.ceiling)

    async def __aenter__(self) -> None:
        self._wanted += 1
        try:
            await self.acquire()
        except BaseException:
            self._wanted -= 1
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._wanted -= 1
        self.release()

    def __repr__(self) -> str:
        return f"SubmitWindow(in_flight={self._in_use}, wanted={self._wanted}, limit={self.limit})"


def window_size(wanted: int, latency: float | None, ceiling: int) -> int:
    """Submits to allow in flight: enough that every submit wanted now is on its way
    within `FILL_SECONDS` at the measured `latency` (seconds; a guess of
    `UNMEASURED_LATENCY` before the first answer), at least 1, at most `ceiling`.

    On loopback (5 ms) one at a time keeps up with hundreds of slots; at a real API's
    0.5-2 s, 50 empty slots get 16 at once and fill in C*latency/16 seconds.
    """
    seconds = UNMEASURED_LATENCY if latency is None else latency
    return max(1, min(ceiling, wanted, math.ceil(wanted * seconds / FILL_SECONDS)))
