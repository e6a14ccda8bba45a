"""Time as the engine sees it, injectable: `MonotonicClock` for real, `ManualClock` for tests.

`now()` is monotonic seconds (for deadlines and pacing); `time()` is epoch seconds (for
the journal and URL expiry); `sleep()` waits. No I/O.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock."""

    def now(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class ManualClock:
    """A clock that only moves when slept on or advanced: tests run in no real time.

    `sleep(s)` moves time forward by `s` at once (then yields to the loop), so code
    that waits for a Retry-After or a poll interval finishes instantly, and a test can
    read how much time the code *would* have waited.
    """

    def __init__(self, start: float = 1_000.0, epoch: float = 1_750_000_000.0) -> None:
        self._now = start
        self._epoch_offset = epoch - start
        self.slept: list[float] = []

    def now(self) -> float:
        return self._now

    def time(self) -> float:
        return self._now + self._epoch_offset

    def advance(self, seconds: float) -> None:
        self._now += max(seconds, 0.0)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now:.3f}, sleeps={len(self.slept)})"
