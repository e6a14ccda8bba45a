"""The catalog: every model, who sells it, how, at what published price, and how sure we are.
No I/O.

Read from the one capability table (`capabilities`) and price table (`prices`), so
`hailuo-batch models` can never say something `validate` or the engine does not do.
"""

from __future__ import annotations

from dataclasses import dataclass

from hailuo_batch.core.capabilities import (
    CAPABILITIES_BY_PROVIDER,
    MODEL_RULES,
    Confidence,
    ModelRules,
    Offer,
)
from hailuo_batch.core.jobs import Model
from hailuo_batch.core.prices import PRICE_BY_PROVIDER_MODEL


@dataclass(frozen=True, slots=True)
class Sale:
    """One provider's offer of one model, as a person choosing a provider wants it."""

    provider: str
    wire: str
    confidence: Confidence
    source: str
    durations: list[int]
    resolutions: list[str]
    limits: list[str]  # what this seller lacks of the model, in words
    prices: dict[str, float]  # published per video, by `6s-768P`
    per_second: dict[str, float]  # published per second, by resolution
    price_source: str | None
    key_env_var: str

    def to_json(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "wire": self.wire,
            "confidence": self.confidence,
            "source": self.source,
            "durations": self.durations,
            "resolutions": self.resolutions,
            "limits": self.limits,
            "prices_usd": self.prices,
            "usd_per_second": self.per_second,
            "price_source": self.price_source,
            "key_env_var": self.key_env_var,
        }


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One model: what it makes, and every sale of it."""

    model: Model
    title: str
    durations: list[int]
    resolutions: list[str]
    features: list[str]
    sales: list[Sale]

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "title": self.title,
            "durations": self.durations,
            "resolutions": self.resolutions,
            "features": self.features,
            "providers": [sale.to_json() for sale in self.sales],
        }


def catalog() -> list[ModelEntry]:
    """Every model in the table's order, each with its sellers in the table's order."""
    return [_entry(model, rules) for model, rules in MODEL_RULES.items()]


def _entry(model: Model, rules: ModelRules) -> ModelEntry:
    sales = [
        _sale(name, model, rules, caps.offers[model], caps.key_env_var)
        for name, caps in CAPABILITIES_BY_PROVIDER.items()
        if model in caps.offers
    ]
    return ModelEntry(
        model,
        rules.title,
        sorted(rules.durations),
        _by_height(rules.resolutions),
        _features(rules),
        sales,
    )


def _features(rules: ModelRules) -> list[str]:
    first = {"optional": "first frame optional", "required": "first frame required"}
    found = [first[rules.image]] if rules.image in first else []
    for resolution in _by_height(rules.needs_first_frame):
        found.append(f"{resolution} needs a first frame")
    for resolution, seconds in sorted(rules.max_duration_by_resolution.items()):
        found.append(f"{resolution} up to {seconds} s")
    if rules.end_frame_resolutions:
        found.append(f"last frame at {'/'.join(_by_height(rules.end_frame_resolutions))}")
    if rules.subject:
        found.append("subject reference required")
    if rules.references:
        found.append("reference images, videos and audio")
    if rules.ratios:
        found.append(f"ratios {', '.join(sorted(rules.ratios))}")
    if rules.audio:
        found.append("sound track")
    found += sorted(rules.options)
    return found


def _sale(provider: str, model: Model, rules: ModelRules, offer: Offer, key: str) -> Sale:
    durations = sorted(offer.durations if offer.durations is not None else rules.durations)
    resolutions = offer.resolutions if offer.resolutions is not None else rules.resolutions
    limits = []
    if rules.end_frame_resolutions and not offer.end_frame:
        limits.append("no last frame")
    if rules.references and not offer.references:
        limits.append("no references")
    if rules.subject and not offer.subject:
        limits.append("no subject reference")
    if not offer.local_images:
        limits.append("frames by public URL only")
    for resolution, seconds in sorted(offer.max_duration_by_resolution.items()):
        limits.append(f"{resolution} up to {seconds} s")
    if offer.options is not None:
        limits += [f"no {option}" for option in sorted(rules.options - offer.options)]
    price = PRICE_BY_PROVIDER_MODEL.get((provider, model))
    source = f"{price.source}, seen {price.seen}, confidence {price.confidence}" if price else None
    return Sale(
        provider,
        offer.wire,
        offer.confidence,
        offer.source,
        durations,
        _by_height(resolutions),
        limits,
        dict(price.per_video) if price else {},
        dict(price.per_second) if price else {},
        source,
        key,
    )


def _by_height(resolutions: frozenset[str]) -> list[str]:
    """512P, 720P, 768P, 1080P, 2K: smallest first."""
    return sorted(resolutions, key=lambda r: 2000 if r == "2K" else int(r.rstrip("P")))
