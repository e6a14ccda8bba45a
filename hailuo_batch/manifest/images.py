"""First and last frame images: what a manifest's `image:` refers to, and its wire form
(`data:` URIs). Reads image files.

Pillow reads only an image's header to learn its format and size, so checking a
manifest of large images stays fast; bytes are hashed once per file and cached. An image
over Pillow's pixel limit (`Image.MAX_IMAGE_PIXELS`, left as the user's Pillow has it) is
refused as too large, never with Pillow's raw warning.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import warnings
from functools import lru_cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from hailuo_batch.core.jobs import MIME_BY_FORMAT, ImageRef

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<b64>;base64)?,(?P<data>.*)$", re.S)
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]+)://")  # 2+ letters: not C:/


class ImageError(ValueError):
    """An image reference that cannot be used; the message says why."""


def image_ref(text: str, base: Path) -> ImageRef:
    """What the manifest's `image:` text refers to, with its facts (URLs are not fetched)."""
    if text.startswith("data:"):
        data = _decode_data_uri(text)
        return _facts(text, "data", data)
    scheme = _SCHEME.match(text)
    if scheme and scheme["scheme"].lower() in ("http", "https"):
        return ImageRef(source=text, kind="url")
    if scheme:
        raise ImageError(
            f"unsupported scheme '{scheme['scheme']}' in {text}: an image is an http or https "
            "URL, a data: URI, or a local file"
        )
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
    shown = source if kind == "path" else "the data: URI"
    try:
        with warnings.catch_warnings():
            # past the limit, the check below says so in words; Pillow's warning must not
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt, (width, height) = image.format or "?", image.size
    except Image.DecompressionBombError:  # over twice the limit: Image.open keeps the size
        width, height = _size_past_the_limit(data, shown)
        raise ImageError(_too_large(shown, width, height)) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise ImageError(f"{shown} is not a readable JPEG, PNG or WebP image") from None
    if Image.MAX_IMAGE_PIXELS is not None and width * height > Image.MAX_IMAGE_PIXELS:
        raise ImageError(_too_large(shown, width, height))
    return ImageRef(
        source=source,
        kind=kind,  # type: ignore[arg-type]
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        width=width,
        height=height,
        size=len(data),
    )


def _size_past_the_limit(data: bytes, shown: str) -> tuple[int, int]:
    """Width and height of an image Image.open refused as too large to open safely.

    The format's own reader parses the header alone, without Pillow's pixel check.
    """
    from PIL import JpegImagePlugin, PngImagePlugin, WebPImagePlugin

    readers = (
        JpegImagePlugin.JpegImageFile,
        PngImagePlugin.PngImageFile,
        WebPImagePlugin.WebPImageFile,
    )
    for reader in readers:
        try:
            with reader(io.BytesIO(data)) as image:
                size: tuple[int, int] = image.size
                return size
        except (SyntaxError, OSError, ValueError):
            continue
    limit = Image.MAX_IMAGE_PIXELS or 0
    raise ImageError(
        f"{shown} is too large: over {2 * limit} pixels, and not a JPEG, PNG or WebP image"
    )


def _too_large(shown: str, width: int, height: int) -> str:
    return (
        f"{shown} is too large: {width} x {height} = {width * height} pixels, at most "
        f"{Image.MAX_IMAGE_PIXELS}; scale it down"
    )


def data_uri(ref: ImageRef) -> str:
    """The wire form of a local image: a base64 `data:` URI (URLs and data URIs pass as is)."""
    if ref.kind != "path":
        return ref.source
    data = Path(ref.source).read_bytes()
    mime = MIME_BY_FORMAT.get(ref.format or "", "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
