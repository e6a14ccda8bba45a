"""The delivered video: frame size rules and a real H.264 MP4, encoded in memory and cached.

No file or network I/O; encoding is CPU work, so async callers run `mp4_bytes` in a thread.
Hailuo output is 25 fps; 768P is 1366x768, 1080P 1920x1080, 512P 910x512 and Video-01's
720P 1280x720. With a first frame the output follows the image's aspect, its short side
being the resolution's height.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import av
from PIL import Image, ImageDraw

FPS = 25
SHORT_SIDE = {"512P": 512, "720P": 720, "768P": 768, "1080P": 1080}
LANDSCAPE = 16 / 9  # URL images are never fetched: their aspect is assumed to be 16:9
_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class VideoSpec:
    """What a finished task's MP4 is: frame size and length."""

    width: int
    height: int
    duration: float

    @property
    def frames(self) -> int:
        return max(1, round(self.duration * FPS))


def frame_size(resolution: str, aspect: float | None) -> tuple[int, int]:
    """Width and height for a resolution token and the first frame's width/height ratio."""
    short = SHORT_SIDE[resolution]
    ratio = LANDSCAPE if aspect is None else aspect
    long = 2 * round(short * max(ratio, 1 / ratio) / 2)  # H.264 4:2:0 needs even sides
    return (long, short) if ratio >= 1 else (short, long)


_lock = threading.Lock()  # guards the two dicts below, never held while encoding
_cache: dict[tuple[int, int, int], bytes] = {}
_encoding: dict[tuple[int, int, int], threading.Lock] = {}


def mp4_bytes(spec: VideoSpec) -> bytes:
    """The encoded MP4 for `spec`, from a process-wide cache (one encode per size and length).

    Thread-safe: callers wanting the same video wait for one encode; others are not held up.
    """
    key = (spec.width, spec.height, spec.frames)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        key_lock = _encoding.setdefault(key, threading.Lock())
    with key_lock:
        with _lock:
            cached = _cache.get(key)
        if cached is None:
            cached = _encode(*key)
            with _lock:
                if len(_cache) >= _CACHE_SIZE:
                    _cache.pop(next(iter(_cache)))
                _cache[key] = cached
                _encoding.pop(key, None)
        return cached


def _encode(width: int, height: int, frames: int) -> bytes:
    """A still test card as H.264 yuv420p; `ultrafast` + `stillimage` keeps this to ~0.1-0.5 s."""
    card = Image.new("RGB", (width, height), (24, 48, 96))
    ImageDraw.Draw(card).rectangle(
        (width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill=(224, 128, 32)
    )
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream(
            "libx264", rate=FPS, options={"preset": "ultrafast", "crf": "35", "tune": "stillimage"}
        )
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        still = av.VideoFrame.from_image(card)  # type: ignore[no-untyped-call]
        frame = still.reformat(format="yuv420p")
        for index in range(frames):
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()
