"""Keeping inside a provider's limits: `RateLimiter` (submits per period, with a provider-wide
pause) and `ConcurrencyGate` (tasks in flight, adaptive). No I/O; time comes from a `Clock`.
"""

from __future__ import annotations

import asyncio
import math

from hailuo_batch.core.capabilities import Rate
from hailuo_batch.core.clock import Clock


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


class ConcurrencyGate:
    """At most `limit` tasks in flight; the cap shrinks when the provider says "too many"
    and grows back by one per success, up to `ceiling` (additive increase,
    multiplicative decrease, as TCP does)."""

    __slots__ = ("_cond", "_in_use", "ceiling", "limit")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1 (got {limit})")
        self.limit = limit
        self.ceiling = limit
        self._in_use = 0
        self._cond = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: self._in_use < self.limit)
            self._in_use += 1

    async def release(self) -> None:
        async with self._cond:
            self._in_use -= 1
            self._cond.notify_all()

    def shrink(self) -> None:
        self.limit = max(1, math.floor(self.limit / 2))

    async def grow(self) -> None:
        if self.limit < self.ceiling:
            async with self._cond:
                self.limit += 1
                self._cond.notify_all()

    @property
    def in_use(self) -> int:
        return self._in_use

    def __repr__(self) -> str:
        return f"ConcurrencyGate(in_use={self._in_use}, limit={self.limit}/{self.ceiling})"
