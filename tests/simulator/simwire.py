"""Raw-HTTP helpers for the simulator's wire tests: the client type, an MP4 probe, test images.

The tests speak HTTP built from PROVIDERS.md, never through `hailuo_batch.providers`.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import av
from aiohttp import web
from aiohttp.test_utils import TestClient
from PIL import Image, ImageStat

from hailuo_batch.simulator.video import VideoCache

KEY = "sim-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
Client = TestClient[web.Request, web.Application]
T = TypeVar("T")
RGB = tuple[int, int, int]


class Sim(Protocol):
    """The `sim` fixture: start a simulator app; keyword arguments are `SimConfig` fields.

    `videos` gives the app its own video cache (to count encodes, or to encode afresh).
    """

    async def __call__(
        self, clock: Callable[[], float] = ..., *, videos: VideoCache = ..., **settings: Any
    ) -> Client: ...


class ManualClock:
    """A clock that moves only when told to (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Probe:
    codec: str
    width: int
    height: int
    duration: float
    fps: float
    pix_fmt: str


def probe(data: bytes) -> Probe:
    """Open MP4 bytes with PyAV, as the runner's media check does."""
    with av.open(io.BytesIO(data)) as container:
        assert container.format.name.startswith("mov,mp4")
        stream = container.streams.video[0]
        assert container.duration is not None and stream.average_rate is not None
        return Probe(
            codec=stream.codec_context.name,
            width=stream.width,
            height=stream.height,
            duration=container.duration / 1_000_000,
            fps=float(stream.average_rate),
            pix_fmt=str(stream.pix_fmt),
        )


def data_uri(width: int, height: int, image_format: str = "PNG", noisy: bool = False) -> str:
    """An image as a data URI; `noisy` makes it incompressible (megabytes)."""
    image = Image.new("RGB", (width, height), (90, 140, 200))
    if noisy:
        image = Image.effect_noise((width, height), 120).convert("RGB")
    return image_uri(image, image_format)


def image_uri(image: Image.Image, image_format: str = "PNG") -> str:
    """`image` encoded as a data URI."""
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    mime = "jpeg" if image_format == "JPEG" else image_format.lower()
    return f"data:image/{mime};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def halves(width: int, height: int, left: RGB, right: RGB) -> Image.Image:
    """An image whose left half is one colour and right half another."""
    image = Image.new("RGB", (width, height), left)
    image.paste(right, (width // 2, 0, width, height))
    return image


def first_frame(data: bytes) -> Image.Image:
    """The first decoded frame of MP4 bytes, as RGB."""
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(video=0))
        image: Image.Image = frame.to_image()
    return image


def comment(data: bytes) -> str:
    """The MP4's `comment` tag, as PyAV (FFmpeg) reads it."""
    with av.open(io.BytesIO(data)) as container:
        tag: str = container.metadata["comment"]
    return tag


def mean(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> RGB:
    """The mean colour of `image` (or of `box` in it), rounded."""
    region = image.crop(box) if box else image
    red, green, blue = (round(value) for value in ImageStat.Stat(region).mean[:3])
    return red, green, blue


def near(color: RGB, expected: RGB, tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(color, expected, strict=True))


async def wait_for(
    fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 5.0
) -> list[T]:
    """Call `fetch` every 30 ms until `done`; return every answer seen (the last is done)."""
    seen: list[T] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        seen.append(await fetch())
        if done(seen[-1]):
            return seen
        assert loop.time() < deadline, f"not done after {timeout} s: {seen[-1]!r}"
        await asyncio.sleep(0.03)


async def download(client: Client, url: str) -> tuple[int, str, bytes]:
    """GET an absolute video URL handed out by the simulator: status, content type, body."""
    async with client.session.get(url) as response:
        return response.status, response.content_type, await response.read()


async def stats(client: Client) -> dict[str, Any]:
    response = await client.get("/_sim/stats")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body
