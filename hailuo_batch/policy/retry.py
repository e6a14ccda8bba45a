"""Retry decisions: pure backoff formulas. No I/O, no clock.

All times are in seconds. The engine owns the loop; this module only answers
"how long to wait before attempt n" (a server's Retry-After, read by
`core.http.parse_retry_after`, replaces the formula).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

MAX_RETRY_AFTER = 300.0
"""Cap on a server's Retry-After (openai's client caps it too: a typo must not stall a run)."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter, as in stamina's `_compute_backoff`:

        wait(n) = min(cap, initial * multiplier ** (n - 1)) * uniform(1 - jitter, 1)

    for the n-th retry (n >= 1). A server's Retry-After, when given, replaces it.
    """

    initial: float = 1.0
    multiplier: float = 2.0
    cap: float = 60.0
    jitter: float = 0.5

    def delay(self, retry: int, rng: random.Random, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        base = min(self.cap, self.initial * self.multiplier ** max(retry - 1, 0))
        return base * rng.uniform(1.0 - self.jitter, 1.0)
