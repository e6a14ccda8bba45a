"""What a video costs, per provider x model x duration x resolution, in USD. No I/O.

The built-in table holds only prices a provider has published (docs/providers/prices.md,
each with its source, the date it was seen and a confidence); everything else is unknown
until a manifest's `prices:` supplies it. Unknown is reported as unknown, never guessed.
A provider that reports the actual charge of a task (AI/ML API's usage, say) has it
recorded per job beside this estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hailuo_batch.core.capabilities import Confidence

PRICES_AS_OF = "2026-11-29"


@dataclass(frozen=True, slots=True)
class Price:
    """A published price: per video (by `6s-768P` key) or per second (by resolution)."""

    per_video: Mapping[str, float]
    per_second: Mapping[str, float]
    source: str
    seen: str
    confidence: Confidence

    def of(self, duration: int, resolution: str) -> float | None:
        found = self.per_video.get(price_key(duration, resolution))
        if found is None and resolution in self.per_second:
            found = round(self.per_second[resolution] * duration, 4)
        return found


_FAL = "fal.ai model page llms.txt, Pricing (docs/providers/prices.md)"
_MINIMAX = "MiniMax pay-as-you-go, via corroborating secondary readings (docs/providers/prices.md)"

PRICE_BY_PROVIDER_MODEL: dict[tuple[str, str], Price] = {
    ("fal", "hailuo-02"): Price(
        per_video={"6s-768P": 0.27},
        per_second={"768P": 0.045},
        source=_FAL,
        seen=PRICES_AS_OF,
        confidence="H",
    ),
    ("fal", "hailuo-2.3"): Price(
        per_video={"6s-768P": 0.28, "10s-768P": 0.56, "6s-1080P": 0.49},
        per_second={},
        source=_FAL,
        seen=PRICES_AS_OF,
        confidence="H",
    ),
    ("fal", "hailuo-2.3-fast"): Price(
        per_video={"6s-768P": 0.19, "10s-768P": 0.32, "6s-1080P": 0.33},
        per_second={},
        source=_FAL,
        seen=PRICES_AS_OF,
        confidence="H",
    ),
    ("minimax", "hailuo-2.3"): Price(
        per_video={"6s-768P": 0.28},
        per_second={},
        source=_MINIMAX,
        seen=PRICES_AS_OF,
        confidence="M",
    ),
    ("minimax", "hailuo-2.3-fast"): Price(
        per_video={"6s-768P": 0.19},
        per_second={},
        source=_MINIMAX,
        seen=PRICES_AS_OF,
        confidence="M",
    ),
    ("minimax", "hailuo-02"): Price(
        per_video={"6s-512P": 0.10},
        per_second={},
        source=_MINIMAX,
        seen=PRICES_AS_OF,
        confidence="M",
    ),
    ("minimax", "h3"): Price(
        per_video={},
        per_second={"768P": 0.08, "2K": 0.13},
        source=_MINIMAX,
        seen="2026-10-24",
        confidence="M",
    ),
}
"""(provider, model) -> its published price; absent where none is known."""


def price_key(duration: int, resolution: str) -> str:
    return f"{duration}s-{resolution}"


@dataclass(frozen=True, slots=True)
class Quote:
    """A price and where it comes from: the manifest's `prices:`, or the built-in table."""

    usd: float
    source: str  # "manifest", or the table entry's source
    seen: str | None = None
    confidence: Confidence | None = None

    def __str__(self) -> str:
        if self.source == "manifest":
            return f"${self.usd:.2f} (manifest prices:)"
        return f"${self.usd:.2f} (published, seen {self.seen}, confidence {self.confidence})"


def quote(
    provider: str,
    model: str,
    duration: int,
    resolution: str,
    overrides: Mapping[str, Mapping[str, float]],
) -> Quote | None:
    """USD per video and its source, the manifest's `prices:` first; None when unknown."""
    override = overrides.get(provider, {}).get(price_key(duration, resolution))
    if override is not None:
        return Quote(float(override), "manifest")
    entry = PRICE_BY_PROVIDER_MODEL.get((provider, model))
    usd = entry.of(duration, resolution) if entry else None
    if entry is None or usd is None:
        return None
    return Quote(usd, entry.source, entry.seen, entry.confidence)


def price(
    provider: str,
    model: str,
    duration: int,
    resolution: str,
    overrides: Mapping[str, Mapping[str, float]],
) -> float | None:
    """USD per video, the manifest's `prices:` first; None when nobody knows."""
    found = quote(provider, model, duration, resolution, overrides)
    return found.usd if found else None
