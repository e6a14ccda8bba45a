"""Replicate's own client (replicate-python) against the simulator's `/replicate` mount.

The simulator follows docs/providers/replicate.md on its own; a real consumer of the API
completing predictions against it shows the simulated protocol is one the provider's own
client speaks: the prediction fields its pydantic model requires, the statuses it knows,
`Prefer: wait` as `run()` uses it, RFC 7807 problems as `ReplicateError`. The client is
pointed at the simulator the two ways it allows: `Client(base_url=...)` and
`REPLICATE_BASE_URL`. Its async API is used: the simulator runs on the test's own loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from replicate.client import Client
from replicate.exceptions import ModelError, ReplicateError

from hailuo_batch.outputs.probe import probe_video
from hailuo_batch.simulator import SimConfig, running_in_process
from hailuo_batch.transport import AiohttpTransport

KEY = "test-key"
FAST = SimConfig(gen_seconds=0.2, seed=3)


@pytest.fixture(autouse=True)
def no_real_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client reads REPLICATE_API_TOKEN and REPLICATE_BASE_URL: never the real ones."""
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.delenv("REPLICATE_BASE_URL", raising=False)


@asynccontextmanager
async def simulated(
    config: SimConfig = FAST, env: pytest.MonkeyPatch | None = None
) -> AsyncIterator[tuple[str, Client]]:
    """The simulator, and the official client with a made-up token pointed at it: by
    `base_url`, or (given `env`) by REPLICATE_BASE_URL."""
    async with running_in_process(config) as base:
        if env is not None:
            env.setenv("REPLICATE_BASE_URL", f"{base}/replicate")
        client = Client(api_token=KEY, base_url=None if env else f"{base}/replicate")
        client.poll_interval = 0.05
        try:
            yield base, client
        finally:
            await client._async_client.aclose()  # the client offers no close of its own


async def _probed(url: str, tmp_path: Path) -> tuple[int, int, float]:
    async with AiohttpTransport() as transport:
        got = await transport.download(url, tmp_path / "v.mp4")
    assert got.status == 200
    video = probe_video(tmp_path / "v.mp4")
    width, height, duration = video["width"], video["height"], video["duration"]
    assert isinstance(width, int) and isinstance(height, int) and isinstance(duration, float)
    return width, height, round(duration)


async def test_run_waits_and_returns_the_video_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`run()` sends `Prefer: wait` and takes the answer as final: the output is the video."""
    async with simulated(env=monkeypatch) as (base, client):
        output = await client.async_run(
            "minimax/hailuo-02",
            input={"prompt": "a red fox in snow", "resolution": "768p", "duration": 10},
        )
        assert isinstance(output, str) and output.startswith(f"{base}/replicate/delivery/")
        assert await _probed(output, tmp_path) == (1366, 768, 10)


async def test_create_then_wait_polls_to_the_end(tmp_path: Path) -> None:
    """`models.predictions.create` answers `starting`; `wait()` polls GET until succeeded."""
    async with simulated() as (_, client):
        prediction = await client.models.predictions.async_create(
            "minimax/video-01", input={"prompt": "a red fox in snow"}
        )
        assert (prediction.status, prediction.model) == ("starting", "minimax/video-01")
        await prediction.async_wait()
        again = await client.predictions.async_get(prediction.id)
        assert prediction.status == again.status == "succeeded"
        assert prediction.completed_at is not None and prediction.metrics is not None
        assert isinstance(prediction.output, str)
        assert await _probed(prediction.output, tmp_path) == (1280, 720, 6)


async def test_cancel_is_read_as_canceled() -> None:
    async with simulated(replace(FAST, gen_seconds=30)) as (_, client):
        prediction = await client.models.predictions.async_create(
            "minimax/hailuo-2.3", input={"prompt": "a red fox in snow"}
        )
        await prediction.async_cancel()
    assert prediction.status == "canceled"


async def test_a_refused_input_is_a_replicate_error() -> None:
    async with simulated() as (_, client):
        with pytest.raises(ReplicateError) as caught:
            await client.models.predictions.async_create(
                "minimax/hailuo-02", input={"prompt": "p", "resolution": "720p"}
            )
    assert (caught.value.status, caught.value.title) == (422, "Input validation failed")
    assert caught.value.detail is not None and "512p" in caught.value.detail


async def test_a_wrong_token_is_a_401_replicate_error() -> None:
    async with simulated(replace(FAST, valid_keys={"replicate": "right"})) as (_, client):
        with pytest.raises(ReplicateError) as caught:
            await client.async_run("minimax/video-01", input={"prompt": "p"})
    assert (caught.value.status, caught.value.title) == (401, "Unauthenticated")


async def test_a_failed_prediction_is_a_model_error() -> None:
    async with simulated(replace(FAST, task_failure_rate=1.0)) as (_, client):
        with pytest.raises(ModelError) as caught:
            await client.async_run("minimax/video-01", input={"prompt": "p"})
    assert caught.value.prediction.status == "failed"
    assert caught.value.prediction.error
