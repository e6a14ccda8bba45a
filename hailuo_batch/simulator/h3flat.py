"""H3 as the resellers take it: one flat body of frames, reference lists and video shape. No I/O.

GMI (`MiniMax-H3`, docs/providers/gmi.md §2, M) and AI/ML API (`minimax/h3`,
docs/providers/aimlapi.md §2, H) name the fields differently (`H3Fields`) and sell different
resolutions; the rules are the model's own (docs/providers/minimax.md §8): 4 to 15 s, a
prompt of at most 7000 characters, at most 9 reference images, 3 reference videos and 3
reference audio clips, audio only beside a reference image or video (AI/ML API's schema
says so too), and frames never combined with references. Reference videos and audio are
public URLs, never fetched; reference images are read like frames.

The frame's shape: a first (or else last) frame decides it, as with `adaptive`; without
frames a `ratio` other than `adaptive` does, else the first reference image, else 16:9
(AI/ML API: text-only "defaults to 16:9").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hailuo_batch.simulator.context import Order
from hailuo_batch.simulator.images import JPEG_PNG, FrameImage, read_image
from hailuo_batch.simulator.params import InvalidParams, choice, rule, text
from hailuo_batch.simulator.video import VideoSpec, frame_size

MAX_PROMPT = 7000
DURATIONS = tuple(range(4, 16))
DEFAULT_DURATION = 6
RATIOS = ("adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")


@dataclass(frozen=True, slots=True)
class H3Fields:
    """One reseller's names for H3's inputs, and the resolutions it sells (the first is
    its default)."""

    first: str
    last: str
    images: str
    videos: str
    audios: str
    resolutions: tuple[str, ...]


def check_h3(body: Mapping[str, object], fields: H3Fields, model: str) -> Order:
    """The task an H3 body asks for, or `InvalidParams` saying why it is refused."""
    prompt = text(body, "prompt", required=True, limit=MAX_PROMPT) or ""
    first = _image(body, fields.first)
    last = _image(body, fields.last)
    images = [
        read_image(value, f"{fields.images}[{index}]", formats=JPEG_PNG)
        for index, value in enumerate(_items(body, fields.images, 9))
    ]
    videos = [_url(value, fields.videos) for value in _items(body, fields.videos, 3)]
    audios = [_url(value, fields.audios) for value in _items(body, fields.audios, 3)]
    if (first or last) and (images or videos or audios):
        raise rule(fields.images, "first/last frames cannot be combined with references")
    if audios and not (images or videos):
        raise rule(fields.audios, "reference audio needs a reference image or video")
    duration = choice(body, "duration", DURATIONS, DEFAULT_DURATION)
    resolution = choice(body, "resolution", fields.resolutions, fields.resolutions[0])
    ratio = choice(body, "ratio", RATIOS, "adaptive")
    shape = first or last or (images[0] if images else None)
    aspect = shape.aspect if shape else None
    if ratio != "adaptive" and not (first or last):
        across, up = (int(side) for side in ratio.split(":"))
        aspect = across / up
    width, height = frame_size(resolution, aspect)
    spec = VideoSpec(width, height, duration, audio=True)  # H3 always makes a sound track
    return Order(model, prompt, spec, first_frame=first or last)


def _image(body: Mapping[str, object], field: str) -> FrameImage | None:
    if body.get(field) in (None, ""):
        return None
    return read_image(body[field], field, formats=JPEG_PNG)


def _items(body: Mapping[str, object], field: str, most: int) -> list[object]:
    value = body.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidParams(field, "type", "must be an array", expected=("array",), received=value)
    if len(value) > most:
        raise rule(field, f"must contain at most {most} items (got {len(value)})")
    return value


def _url(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise rule(field, "each item must be a public http(s) URL")
    return value
