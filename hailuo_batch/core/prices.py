"""What a video costs, per provider x model x duration x resolution, in USD. No I/O.

The built-in table holds only prices a provider has published for these endpoints;
PROVIDERS.md could confirm none for our five providers as of PRICES_AS_OF, so every
entry is unknown until a manifest's `prices:` supplies it (e.g. from the provider's
billing page). Unknown is reported as unknown, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping

PRICES_AS_OF = "2026-11-21"

PRICE_BY_PROVIDER_MODEL: dict[tuple[str, str], dict[str, float]] = {}
"""(provider, model) -> {"6s-768P": usd, ...}; empty where no published price is known."""


def price_key(duration: int, resolution: str) -> str:
    return f"{duration}s-{resolution}"


def price(
    provider: str,
    model: str,
    duration: int,
    resolution: str,
    overrides: Mapping[str, Mapping[str, float]],
) -> float | None:
    """USD per video, the manifest's `prices:` first; None when nobody knows."""
    key = price_key(duration, resolution)
    override = overrides.get(provider, {}).get(key)
    if override is not None:
        return float(override)
    return PRICE_BY_PROVIDER_MODEL.get((provider, model), {}).get(key)
