"""First and last frame images: what a manifest's `image:` refers to, and its wire form
(`data:` URIs). Reads image files.

Pillow reads only an image's header to learn its format and size, so checking a
manifest of large images stays fast; bytes are hashed once per file and cached.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from functools import lru_cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from hailuo_batch.core.jobs import ImageRef

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<b64>;base64)?,(?P<data>.*)$", re.S)
_MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class ImageError(ValueError):
    """An image reference that cannot be used; the message says why."""


def image_ref(text: str, base: Path) -> ImageRef:
    """What the manifest's `image:` text refers to, with its facts (URLs are not fetched)."""
    if text.startswith(("http://", "https://")):
        return ImageRef(source=text, kind="url")
    if text.startswith("data:"):
        data = _decode_data_uri(text)
        return _facts(text, "data", data)
    path = (base / text).resolve()
    try:
        stat = path.stat()
    except OSError:
        raise ImageError(f"image file not found: {path}") from None
    if not path.is_file():
        raise ImageError(f"image is not a file: {path}")
    return _file_facts(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4096)
def _file_facts(path: str, mtime_ns: int, size: int) -> ImageRef:
    """Cached by (path, mtime, size): a data set reusing one image hashes it once."""
    del mtime_ns, size  # part of the cache key only
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"cannot read image {path}: {exc.strerror}") from None
    return _facts(path, "path", data)


def _decode_data_uri(text: str) -> bytes:
    match = _DATA_URI.match(text)
    if not match or not match["b64"]:
        raise ImageError("a data: URI image must be base64 (data:image/png;base64,...)")
    try:
        return base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("the data: URI is not valid base64") from None


def _facts(source: str, kind: str, data: bytes) -> ImageRef:
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format or "?", image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        shown = source if kind == "path" else "the data: URI"
        raise ImageError(f"{shown} is not a readable JPEG, PNG or WebP image") from None
    return ImageRef(
        source=source,
        kind=kind,  # type: ignore[arg-type]
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        width=width,
        height=height,
        size=len(data),
    )


def data_uri(ref: ImageRef) -> str:
    """The wire form of a local image: a base64 `data:` URI (URLs and data URIs pass as is)."""
    if ref.kind != "path":
        return ref.source
    data = Path(ref.source).read_bytes()
    mime = _MIME_BY_FORMAT.get(ref.format or "", "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
