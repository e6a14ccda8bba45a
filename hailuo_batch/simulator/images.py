"""First/last frame images as the services receive them: a URL or a data URI. No I/O.

The documented limits (docs/providers/README.md, common model constraints): JPG/JPEG/PNG (plus WebP
on MiniMax), under 20 MB, short side above 300 px, aspect between 2:5 and 5:2; an API with
other limits passes its own `ImageLimits` (MiniMax's V2: 30 MB, sides 256 to 5760 px,
aspect 0.4 to 2.5). Data URIs are decoded and their header read with Pillow; URLs are
never fetched, so only their scheme is checked (and a URL first frame gives no picture
to draw).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from hailuo_batch.simulator.params import InvalidParams, rule

JPEG_PNG = frozenset({"JPEG", "PNG"})
JPEG_PNG_WEBP = frozenset({"JPEG", "PNG", "WEBP"})
MAX_BYTES = 20 * 1024 * 1024
MIN_SHORT_SIDE = 301
MIN_ASPECT, MAX_ASPECT = 2 / 5, 5 / 2


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What an API takes: the Hailuo endpoints' common limits by default."""

    max_mb: int = MAX_BYTES // (1024 * 1024)
    min_side: int = MIN_SHORT_SIDE  # every side at least this many pixels
    max_side: int | None = None
    aspect: tuple[float, float, str] = (MIN_ASPECT, MAX_ASPECT, "2:5 and 5:2")


HAILUO_LIMITS = ImageLimits()
_DATA_URI = re.compile(r"data:(?P<mime>image/[A-Za-z0-9.+-]+);base64,(?P<payload>.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class FrameImage:
    """What the simulator knows of a frame image: its header's size (unknown for URLs).

    `data` is the image file a data URI carried, for the submit to hand to `FirstFrames`
    (never kept with the task).
    """

    width: int | None = None
    height: int | None = None
    data: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def aspect(self) -> float | None:
        """Width over height, or None when unknown (URLs)."""
        if self.width is None or self.height is None:
            return None
        return self.width / self.height


def read_image(
    value: object, field: str, *, formats: frozenset[str], limits: ImageLimits = HAILUO_LIMITS
) -> FrameImage:
    """Check one image field; raise `InvalidParams` saying why the service would refuse it."""
    if not isinstance(value, str) or not value:
        raise InvalidParams(
            field, "type", "must be a non-empty string", expected=("string",), received=value
        )
    if value.startswith(("http://", "https://")):
        return FrameImage()
    match = _DATA_URI.fullmatch(value)
    if match is None:
        raise rule(field, "must be a public URL or a data URI (data:image/...;base64,...)")
    try:
        raw = base64.b64decode(match["payload"], validate=True)
    except binascii.Error as exc:
        raise rule(field, "invalid base64 payload") from exc
    if len(raw) >= limits.max_mb * 1024 * 1024:
        raise rule(field, f"image must be smaller than {limits.max_mb}MB")
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image_format, (width, height) = image.format, image.size
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise rule(field, "not a readable image") from exc
    if image_format not in formats:
        raise rule(field, f"format {image_format} not supported ({', '.join(sorted(formats))})")
    if min(width, height) < limits.min_side:
        raise rule(
            field, f"short side must be more than {limits.min_side - 1}px (got {width}x{height})"
        )
    if limits.max_side is not None and max(width, height) > limits.max_side:
        raise rule(field, f"long side must be at most {limits.max_side}px (got {width}x{height})")
    low, high, words = limits.aspect
    if not low <= width / height <= high:
        raise rule(field, f"aspect ratio must be between {words} (got {width}x{height})")
    return FrameImage(width, height, raw)
