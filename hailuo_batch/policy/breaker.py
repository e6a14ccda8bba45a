"""The circuit breaker: when a provider that keeps failing is taken out of service. No I/O.

A failed submit (a transient refusal, no connection, no answer) pauses the whole provider
for a backoff delay before anyone tries again, and only a failure after that pause counts
toward the threshold: four slots hitting a refused connection at once are one failure,
not four. So "down" means `threshold` failures in a row, spaced by growing waits
(with the defaults, about 5-8 s of nothing but failures), never eight tries in a second.
Times are monotonic seconds, passed in.
"""

from __future__ import annotations

import random

from hailuo_batch.policy.retry import Backoff

BREAKER_BACKOFF = Backoff(initial=0.25, multiplier=2.0, cap=8.0, jitter=0.25)


class Breaker:
    """Counts spaced failures of one provider; `tripped` once `threshold` are reached."""

    __slots__ = ("_backoff", "_paused_until", "failures", "threshold")

    def __init__(self, threshold: int = 6, backoff: Backoff = BREAKER_BACKOFF) -> None:
        if threshold < 1:
            raise ValueError(f"threshold must be at least 1 (got {threshold})")
        self.threshold = threshold
        self._backoff = backoff
        self.failures = 0
        self._paused_until = 0.0

    def failure(self, now: float, rng: random.Random) -> float:
        """Record a failure at `now`; the monotonic time until which the provider rests."""
        if now >= self._paused_until:
            self.failures += 1
            self._paused_until = now + self._backoff.delay(self.failures, rng)
        return self._paused_until

    def success(self) -> None:
        self.failures = 0

    @property
    def tripped(self) -> bool:
        return self.failures >= self.threshold

    def __repr__(self) -> str:
        return f"Breaker(failures={self.failures}/{self.threshold})"
