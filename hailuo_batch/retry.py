"""Retry decisions: pure backoff formulas and Retry-After parsing. No I/O, no clock.

All times are in seconds. The engine owns the loop; this module only answers
"how long to wait before attempt n" and "what did the server ask for".
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

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


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date.

    An HTTP date is measured against the response's own `Date` header, so no clock is
    read here; without one the date form is ignored. Header names must be lower-case.
    """
    if "retry-after-ms" in headers:
        try:
            return float(headers["retry-after-ms"]) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        now = parsedate_to_datetime(headers["date"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return max((when - now).total_seconds(), 0.0)
