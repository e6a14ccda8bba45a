"""The provider registry: which adapter speaks each provider's protocol. No I/O.

`make_provider("novita", key)` gives a pure adapter (see `base.Provider`); adapters that
can list recent tasks also satisfy `TaskFinder`, for reconciling a lost submit reply.
"""

from __future__ import annotations

from hailuo_batch.providers._adapter import Adapter, TaskFinder
from hailuo_batch.providers.aimlapi import AimlapiAdapter
from hailuo_batch.providers.base import Provider
from hailuo_batch.providers.fal import FalAdapter
from hailuo_batch.providers.gmi import GmiAdapter
from hailuo_batch.providers.minimax import MinimaxAdapter
from hailuo_batch.providers.novita import NovitaAdapter
from hailuo_batch.providers.replicate import ReplicateAdapter

ADAPTER_BY_PROVIDER: dict[str, type[Adapter]] = {
    "novita": NovitaAdapter,
    "highway": NovitaAdapter,  # Novita's protocol at HighwayAPI's origin
    "gmi": GmiAdapter,
    "aimlapi": AimlapiAdapter,
    "minimax": MinimaxAdapter,
    "fal": FalAdapter,
    "replicate": ReplicateAdapter,
}


def make_provider(name: str, api_key: str, base_url: str | None = None) -> Provider:
    """The adapter for `name`; `base_url` replaces the real origin (a proxy, the simulator)."""
    try:
        adapter = ADAPTER_BY_PROVIDER[name]
    except KeyError:
        known = ", ".join(ADAPTER_BY_PROVIDER)
        raise ValueError(f"unknown provider {name!r} (known: {known})") from None
    return adapter(name, api_key, base_url)


__all__ = [
    "ADAPTER_BY_PROVIDER",
    "AimlapiAdapter",
    "FalAdapter",
    "GmiAdapter",
    "MinimaxAdapter",
    "NovitaAdapter",
    "Provider",
    "ReplicateAdapter",
    "TaskFinder",
    "make_provider",
]
