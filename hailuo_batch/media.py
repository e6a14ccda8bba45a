"""Media on disk: first/last frame images (facts, `data:` URIs) and downloaded videos
(probed facts, poster frames). Reads files; writes poster JPEGs.

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
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from hailuo_batch.atomic import atomic_write
from hailuo_batch.jobs import ImageRef

if TYPE_CHECKING:
    from hailuo_batch.state import JobRecord

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<b64>;base64)?,(?P<data>.*)$", re.S)
_MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
POSTER_AT = 1.0  # seconds in: past a fade-in, and cheap to decode to
POSTER_BOX = 640  # pixels: the poster's longer side at most


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


class MediaError(ValueError):
    """A file that is not a readable video."""


def probe_video(path: Path, poster: Path | None = None) -> dict[str, object]:
    """Container, codec, size, frame rate, frame count and duration, read by FFmpeg (PyAV).

    With `poster`, also saves a poster frame there (see `save_poster`), in the same call,
    so a download is inspected in one trip to a worker thread.
    """
    facts = _probe(path)
    if poster is not None:
        save_poster(path, poster)
    return facts


def _probe(path: Path) -> dict[str, object]:
    import av  # FFmpeg is heavy to load: only commands that handle videos pay for it

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames = stream.frames or sum(1 for _ in container.demux(stream) if _.size)
            rate = stream.average_rate
            fps = float(rate) if rate else None
            seconds = float(stream.duration * stream.time_base) if stream.duration else None
            if seconds is None and container.duration:
                seconds = container.duration / 1_000_000
            if seconds is None and fps and frames:
                seconds = frames / fps
            return {
                "container": container.format.name.split(",")[0],
                "codec": stream.codec_context.name,
                "width": stream.codec_context.width,
                "height": stream.codec_context.height,
                "fps": round(fps, 3) if fps else None,
                "frames": frames,
                "duration": round(seconds, 3) if seconds else None,
            }
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise MediaError(f"{path.name}: {exc}") from None


def save_poster(video: Path, poster: Path) -> bool:
    """Write a JPEG of the frame at about `POSTER_AT` seconds (or the last before it).

    Returns False, writing nothing, when no frame decodes: the gallery then shows the
    video without a poster, and the missing frames are flagged by `verify` instead.
    """
    picture = _frame_near(video, POSTER_AT)
    if picture is None:
        return False
    picture.thumbnail((POSTER_BOX, POSTER_BOX))
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=82)
    poster.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(poster, buffer.getvalue())
    return True


def _frame_near(video: Path, seconds: float) -> Image.Image | None:
    import av

    picked = None
    try:
        with av.open(str(video)) as container:
            for frame in container.decode(container.streams.video[0]):
                picked = frame
                if frame.time is not None and frame.time >= seconds:
                    break
    except (av.error.FFmpegError, IndexError, OSError):
        pass  # frames decoded before a damaged part still make a poster
    return picked.to_image() if picked is not None else None


def file_matches(folder: Path, record: JobRecord) -> bool:
    """A done job's file is there, unchanged since we wrote it, or re-hashes to its sha256.

    Size and mtime are enough when both are as recorded (git's index does the same);
    otherwise the bytes are hashed, so a corrupted file is caught.
    """
    if not record.path or record.sha256 is None:
        return False
    path = folder / record.path
    try:
        stat = path.stat()
    except OSError:
        return False
    if stat.st_size != record.bytes:
        return False
    if stat.st_mtime_ns == record.mtime_ns:
        return True
    return sha256_file(path) == record.sha256


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
