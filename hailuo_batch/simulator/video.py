"""The delivered video: frame size rules, what a video shows (its `Look`), and real H.264 MP4s.

No file or network I/O; encoding is CPU work, so async callers run `VideoCache.mp4` in a
thread. Hailuo output is 25 fps; 768P is 1366x768, 1080P 1920x1080, 512P 910x512 and
Video-01's 720P 1280x720. With a first frame the output follows the image's aspect, its
short side being the resolution's height. H3's 2K has no documented frame size: 1440 px
short side here (2560x1440 at 16:9), an UNVERIFIED choice; its `ratio` shapes the frame
where no first frame does (`aspect_of`).

Sound: H3 always makes a sound track (docs/providers/README.md 1.4), so a provider module
sets `VideoSpec.audio` for H3 tasks and the MP4 then carries a quiet stereo AAC tone as
long as the video, encoded with the look (it is part of the spec, so of the look's key).
The tone is encoded in full, not repeated like the picture: ~0.15 s more for a 6 s look.

Cheap at scale (CPU time, x264's threads included): an MP4 is encoded once per look and
cached, and the encoder makes only two seconds (a closed GOP: an IDR frame and 49 P
frames), then repeats their packets with shifted timestamps. Each repeat starts with an
IDR frame, so it decodes exactly as a full encode of the same still would. A 768P look
costs ~0.2 s, 6 s or 10 s alike, and 1080P ~0.45 s, where a full encode of the old card
took 0.7 s (768P, 6 s), 1.1 s (10 s) and 1.4 s (1080P); a 6 s 768P file is ~27 KB
(~40 KB with a first-frame photo).

Each task's file says whose it is: its `comment` tag reads `hailuo-batch simulator task
<id>`. The look's encode carries a fixed-width placeholder there, and a task's copy is
the cached bytes with its id written over the placeholder, padded with NULs (MP4 readers
such as FFmpeg read the string up to the first NUL). That costs ~10 us per task, where
remuxing with the tag would cost ~2 ms and re-encoding ~0.2 s.
"""

from __future__ import annotations

import array
import heapq
import io
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
from PIL import Image

FPS = 25
GOP = 2 * FPS  # frames encoded per look: two seconds, repeated (see the module docstring)
# "2K": UNVERIFIED, no provider documents H3's frame size; 1440 px is 2560x1440 at 16:9.
SHORT_SIDE = {"480P": 480, "512P": 512, "720P": 720, "768P": 768, "1080P": 1080, "2K": 1440}
LANDSCAPE = 16 / 9  # URL images are never fetched: their aspect is assumed to be 16:9
AUDIO_RATE = 48_000
AUDIO_BIT_RATE = 32_000  # a steady tone needs little: ~4.5 KB a second of video
AAC_SAMPLES = 1024  # one AAC frame
TONE_HZ = 375  # a 128-sample period: every AAC frame holds the same samples
TONE_LEVEL = 0.05  # about -26 dBFS: quiet
TAG_PREFIX = b"hailuo-batch simulator task "
TAG_WIDTH = 64  # bytes for the task id; ids here are at most ~40 ASCII characters
_PLACEHOLDER = b"#" * TAG_WIDTH
TITLE = "SIMULATED by hailuo-batch: not a generated video"
CACHE_BYTES = 64 * 1024 * 1024  # 1000s of looks: ~30 KB a card, ~100 KB a 1080P photo
# Constant QP: after each IDR frame the P frames of a still are pure skips (~24 bytes),
# where a CRF encode spends kilobytes refining them, and decoders have less to do.
_X264 = {"preset": "ultrafast", "qp": "28"}


@dataclass(frozen=True, slots=True)
class VideoSpec:
    """What a finished task's MP4 is: frame size, length, and whether it has sound."""

    width: int
    height: int
    duration: float
    audio: bool = False

    @property
    def frames(self) -> int:
        return max(1, round(self.duration * FPS))


@dataclass(frozen=True, slots=True)
class Look:
    """What a video shows, all of it but whose it is: the key of one encode.

    `image` is the sha256 of the first-frame image (drawn when still known), `caption`
    the prompt when prompts are drawn. Sound is `spec.audio`, set by the provider module.
    """

    spec: VideoSpec
    image: str | None = None
    caption: str | None = None


Draw = Callable[[Look], Image.Image | None]
"""Renders a look's still; None when it can no longer be drawn (its image is gone)."""


def aspect_of(ratio: str) -> float | None:
    """Width over height of a ratio token such as "16:9"; None for "adaptive" or junk."""
    wide, _, high = ratio.partition(":")
    if not (wide.isdigit() and high.isdigit()) or int(wide) == 0 or int(high) == 0:
        return None
    return int(wide) / int(high)


def frame_size(resolution: str, aspect: float | None) -> tuple[int, int]:
    """Width and height for a resolution token and the frame's width/height ratio (the
    first frame's, or a requested ratio's; 16:9 when None)."""
    short = SHORT_SIDE[resolution]
    ratio = LANDSCAPE if aspect is None else aspect
    long = 2 * round(short * max(ratio, 1 / ratio) / 2)  # H.264 4:2:0 needs even sides
    return (long, short) if ratio >= 1 else (short, long)


@dataclass(frozen=True, slots=True)
class Encoded:
    """One look's MP4 and where its task-id placeholder sits."""

    data: bytes
    slot: int  # offset of the placeholder

    def tagged(self, task_id: str) -> bytes:
        """The MP4 whose `comment` names `task_id` (same length as `data`)."""
        tag = task_id.encode()
        if len(tag) > TAG_WIDTH:
            raise ValueError(f"task id longer than {TAG_WIDTH} bytes: {task_id!r}")
        end = self.slot + TAG_WIDTH
        return self.data[: self.slot] + tag.ljust(TAG_WIDTH, b"\0") + self.data[end:]


class VideoCache:
    """Encoded looks, least recently used dropped beyond `budget` bytes; thread-safe.

    Callers wanting the same look wait for one encode; others are not held up.
    `encodes` counts the encodes made, for tests and benchmarks.
    """

    __slots__ = ("_encoding", "_entries", "_lock", "_size", "budget", "encodes")

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        if budget < 0:
            raise ValueError(f"budget must be >= 0 bytes (got {budget})")
        self.budget = budget
        self.encodes = 0
        self._lock = threading.Lock()  # guards the fields below, never held while encoding
        self._entries: OrderedDict[Look, Encoded] = OrderedDict()
        self._size = 0
        self._encoding: dict[Look, threading.Lock] = {}

    def __repr__(self) -> str:
        return (
            f"<VideoCache looks={len(self._entries)} bytes={self._size}/{self.budget} "
            f"encodes={self.encodes}>"
        )

    def mp4(self, look: Look, task_id: str, draw: Draw) -> bytes:
        """The MP4 of `look`, tagged as `task_id`'s; `draw` is called only to encode.

        A look whose image is gone is delivered as the same look without it (the card).
        """
        encoded = self._cached(look) or self._encode_once(look, draw)
        if encoded is None:
            return self.mp4(Look(look.spec, None, look.caption), task_id, draw)
        return encoded.tagged(task_id)

    def _cached(self, look: Look) -> Encoded | None:
        with self._lock:
            encoded = self._entries.get(look)
            if encoded is not None:
                self._entries.move_to_end(look)
            return encoded

    def _encode_once(self, look: Look, draw: Draw) -> Encoded | None:
        with self._lock:
            key_lock = self._encoding.setdefault(look, threading.Lock())
        with key_lock:
            try:
                encoded = self._cached(look)
                if encoded is not None:
                    return encoded
                still = draw(look)
                if still is None:
                    return None
                encoded = encode(look, still)
                self._keep(look, encoded)
                return encoded
            finally:
                with self._lock:
                    self._encoding.pop(look, None)

    def _keep(self, look: Look, encoded: Encoded) -> None:
        with self._lock:
            self.encodes += 1
            self._entries[look] = encoded
            self._size += len(encoded.data)
            while self._size > self.budget and len(self._entries) > 1:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped.data)


SHARED = VideoCache()
"""The process-wide cache every app uses unless given its own: looks are deterministic, so
simulators in one process (tests, `run --simulate`) share encodes."""


Timed = tuple[float, "av.Packet[Any]"]
"""A packet and its time in seconds, for muxing two streams in time order."""


def encode(look: Look, still: Image.Image) -> Encoded:
    """`still` for the look's length, as H.264 yuv420p in MP4 (with the tone when the spec
    has sound), with a task-id placeholder."""
    spec = look.spec
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        container.metadata["title"] = TITLE
        container.metadata["comment"] = (TAG_PREFIX + _PLACEHOLDER).decode()
        video = _video_packets(container, spec, still)
        sound = _tone_packets(container, spec.duration) if spec.audio else []
        for _, packet in heapq.merge(video, sound, key=lambda timed: timed[0]):
            container.mux(packet)
    data = buffer.getvalue()
    marker = TAG_PREFIX + _PLACEHOLDER
    if data.count(marker) != 1:  # the muxer wrote the tag once, or this scheme is broken
        raise RuntimeError(
            f"expected one task-id placeholder in the MP4, found {data.count(marker)}"
        )
    return Encoded(data, data.index(marker) + len(TAG_PREFIX))


def _video_packets(
    container: av.container.OutputContainer, spec: VideoSpec, still: Image.Image
) -> Iterator[Timed]:
    """Two seconds of `still` encoded once, their packets repeated to the spec's length."""
    gop = min(GOP, spec.frames)
    stream = container.add_stream(
        "libx264",
        rate=FPS,
        options={**_X264, "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"},
    )
    stream.width = spec.width
    stream.height = spec.height
    stream.pix_fmt = "yuv420p"
    frame = av.VideoFrame.from_image(still).reformat(format="yuv420p")  # type: ignore[no-untyped-call]
    packets = []
    for index in range(gop):
        frame.pts = index
        packets.extend(stream.encode(frame))
    packets.extend(stream.encode(None))
    # Without B-frames packets come in display order, one per frame: packet i is frame i.
    second = [(bytes(packet), packet.is_keyframe) for packet in packets]
    for start in range(0, spec.frames, gop):
        for offset, (data, keyframe) in enumerate(second[: spec.frames - start]):
            packet = av.Packet(data)
            packet.stream = stream
            packet.time_base = Fraction(1, FPS)
            packet.pts = packet.dts = start + offset
            packet.duration = 1
            packet.is_keyframe = keyframe
            yield (start + offset) / FPS, packet


def _tone_packets(container: av.container.OutputContainer, duration: float) -> list[Timed]:
    """A quiet stereo AAC tone of `duration` seconds."""
    stream = container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
    stream.bit_rate = AUDIO_BIT_RATE
    total = round(duration * AUDIO_RATE)
    packets = []
    for start in range(0, total, AAC_SAMPLES):
        samples = min(AAC_SAMPLES, total - start)
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
        for plane in frame.planes:
            plane.update(_TONE[: samples * 4])  # 4 bytes a float32 sample
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        packets.extend(stream.encode(frame))
    packets.extend(stream.encode(None))
    return [(float((packet.pts or 0) * packet.time_base), packet) for packet in packets]


_TONE = array.array(
    "f", (TONE_LEVEL * math.sin(2 * math.pi * TONE_HZ * n / AUDIO_RATE) for n in range(AAC_SAMPLES))
).tobytes()
"""One AAC frame of the tone, one channel (float32): every frame of the track is this."""
