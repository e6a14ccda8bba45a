"""The real fal-client SDK completes jobs against the simulator, as it would against fal.

fal-client builds its queue URL once, at import, as `f"https://{FAL_QUEUE_RUN_HOST}/"`
(`fal_client/client.py`, with `FAL_QUEUE_RUN_HOST` read from the environment by
`auth.py`): the environment can move the host, not the scheme, and the simulator speaks
plain HTTP. So these tests replace that one module constant, `QUEUE_URL_FORMAT`, with the
simulator's `http://127.0.0.1:<port>/fal/` (pytest's monkeypatch on fal-client's module,
undone after each test), the override docs/providers/fal.md names. Everything else runs as
shipped: the key through `AsyncClient(key=...)`, the status, result and cancel URLs taken
verbatim from the submit answer (or built from owner and app by `get_handle`), the SDK's
own parsing, which refuses any status but IN_QUEUE, IN_PROGRESS and COMPLETED, and its own
error type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fal_client
import fal_client.client
import pytest

from hailuo_batch.core.http import HttpRequest
from hailuo_batch.outputs.probe import probe_video
from hailuo_batch.providers import make_provider
from hailuo_batch.simulator import SimConfig, running_in_process
from hailuo_batch.transport import AiohttpTransport

KEY = "sdk-key-id:sdk-key-secret"
ENDPOINT = "fal-ai/minimax/hailuo-02/standard/image-to-video"
ARGUMENTS = {"prompt": "a red fox", "image_url": "https://example.com/frame.jpg"}


@asynccontextmanager
async def sdk(key: str = KEY) -> AsyncIterator[fal_client.AsyncClient]:
    """An `AsyncClient` whose connections are closed afterwards. It has no public close
    (1.0.3): its httpx client, an async cached property, is closed directly, or the test
    would leave sockets for the garbage collector."""
    client = fal_client.AsyncClient(key=key)
    try:
        yield client
    finally:
        await (await client._client).aclose()


@asynccontextmanager
async def pointed(monkeypatch: pytest.MonkeyPatch, gen_seconds: float = 0.2) -> AsyncIterator[str]:
    """A simulator that knows one fal key and makes one video at a time, with fal-client's
    queue URL pointed at it; yields its base URL."""
    config = SimConfig(gen_seconds=gen_seconds, max_concurrent=1, seed=3, valid_keys={"fal": KEY})
    async with running_in_process(config) as base:
        monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", f"{base}/fal/")
        yield base


async def test_subscribe_makes_a_video(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Submit, statuses until COMPLETED, the result: a real 6 s MP4 at 512P."""
    updates: list[fal_client.Status] = []
    async with pointed(monkeypatch) as base, sdk() as client, AiohttpTransport() as transport:
        output = await client.subscribe(
            ENDPOINT,
            {**ARGUMENTS, "resolution": "512P", "duration": "6"},
            with_logs=True,
            interval=0.05,
            on_queue_update=updates.append,
        )
        url = output["video"]["url"]
        assert url.startswith(f"{base}/fal/files/")
        assert (await transport.download(url, tmp_path / "v.mp4")).status == 200
    completed = updates[-1]
    assert isinstance(completed, fal_client.Completed)
    assert completed.error is None and completed.metrics["inference_time"] > 0
    assert all(isinstance(u, fal_client.Queued | fal_client.InProgress) for u in updates[:-1])
    video = probe_video(tmp_path / "v.mp4")
    assert (video["codec"], video["width"], video["height"]) == ("h264", 910, 512)


async def test_the_sdk_and_the_adapter_find_a_request_by_its_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """fal-client's `get_handle` and the adapter build the status URL from the request id
    alone, as the submit answer has it, and the simulator answers there."""
    async with pointed(monkeypatch) as base, sdk() as client, AiohttpTransport() as transport:
        handle = await client.submit(ENDPOINT, ARGUMENTS)
        adapter = make_provider("fal", KEY, f"{base}/fal")
        assert adapter.poll_request(handle.request_id).url == handle.status_url
        found = await client.get_handle(ENDPOINT, handle.request_id)
        assert (found.status_url, found.response_url) == (handle.status_url, handle.response_url)
        async for _ in found.iter_events(interval=0.05):
            pass
        output = await client.result(ENDPOINT, handle.request_id)
        answer = await transport.send(HttpRequest("GET", output["video"]["url"]))
    assert answer.status == 200


async def test_the_sdk_raises_fal_errors_from_the_simulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong key at the submit; a refused input at the result, after the queue took it."""
    async with pointed(monkeypatch), sdk("other:key") as stranger, sdk() as client:
        with pytest.raises(fal_client.FalClientHTTPError) as wrong_key:
            await stranger.submit(ENDPOINT, ARGUMENTS)
        handle = await client.submit(ENDPOINT, {"prompt": "no frame"})
        with pytest.raises(fal_client.FalClientHTTPError) as refused:
            await handle.get(interval=0.05)
    assert (wrong_key.value.status_code, str(wrong_key.value)) == (
        401,
        "No user found for Key ID and Secret",
    )
    assert refused.value.status_code == 422
    detail: list[dict[str, object]] = refused.value.message  # type: ignore[assignment]
    assert detail[0]["loc"] == ["body", "image_url"]  # fal's 422 detail: a list of problems


async def test_the_sdk_cancels_a_queued_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind one slot busy for a minute, a second request waits; cancelled, it completes
    with fal's `client_cancelled`."""
    async with pointed(monkeypatch, gen_seconds=60), sdk() as client:
        await client.submit(ENDPOINT, ARGUMENTS)
        waiting = await client.submit(ENDPOINT, ARGUMENTS)
        assert isinstance(await waiting.status(), fal_client.Queued)
        await waiting.cancel()
        cancelled = await waiting.status()
    assert isinstance(cancelled, fal_client.Completed)
    assert cancelled.error_type == "client_cancelled"
