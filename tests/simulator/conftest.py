"""The `sim` fixture: a simulator app behind an aiohttp test client."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from simwire import Client, Sim

from hailuo_batch.simulator import SimConfig, make_app
from hailuo_batch.simulator.tasks import Clock
from hailuo_batch.simulator.video import SHARED, VideoCache


@pytest.fixture
def sim(aiohttp_client: AiohttpClient) -> Sim:
    """Start a simulator with fast tasks; keyword arguments are `SimConfig` fields."""

    async def start(
        clock: Clock = time.monotonic, *, videos: VideoCache = SHARED, **settings: Any
    ) -> Client:
        settings.setdefault("gen_seconds", 0.15)
        settings.setdefault("seed", 7)
        return await aiohttp_client(make_app(SimConfig(**settings), clock=clock, videos=videos))

    return start
