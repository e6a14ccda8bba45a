"""Downloaded videos on disk: probed facts, poster frames, and whether a file is intact.
Reads video files; writes poster JPEGs.

FFmpeg (through PyAV) is loaded only by the functions that need it, so commands that
never touch a video start fast. FFmpeg is always handed an open file, never a path to
parse: a folder named `s3:x` or `http:y` must not be read as a protocol.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from PIL import Image

from hailuo_batch.store.atomic import atomic_write

if TYPE_CHECKING:
    from hailuo_batch.store.fold import JobRecord

POSTER_AT = 1.0  # seconds in: past a fade-in, and cheap to decode to
POSTER_BOX = 640  # pixels: the poster's longer side at most


class MediaError(ValueError):
    """A file that is not a readable video."""


def probe_video(path: Path, poster: Path | None = None) -> dict[str, object]:
    """Container, codecs, size, frame rate, frame count, duration and audio, read by FFmpeg.

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
        with path.open("rb") as handle, _open(handle) as container:
            stream = container.streams.video[0]
            frames = stream.frames or sum(1 for _ in container.demux(stream) if _.size)
            rate = stream.average_rate
            fps = float(rate) if rate else None
            seconds = float(stream.duration * stream.time_base) if stream.duration else None
            if seconds is None and container.duration:
                seconds = container.duration / 1_000_000
            if seconds is None and fps and frames:
                seconds = frames / fps
            audio = (
                container.streams.audio[0].codec_context.name if container.streams.audio else None
            )
            return {
                "container": container.format.name.split(",")[0],
                "codec": stream.codec_context.name,
                "width": stream.codec_context.width,
                "height": stream.codec_context.height,
                "fps": round(fps, 3) if fps else None,
                "frames": frames,
                "duration": round(seconds, 3) if seconds else None,
                "audio": audio,
            }
    except (av.error.FFmpegError, IndexError, OSError, ValueError) as exc:
        raise MediaError(f"{path.name}: {exc}") from None


def _open(handle: BinaryIO) -> Any:
    import av

    return av.open(handle, "r")


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
        with video.open("rb") as handle, _open(handle) as container:
            for frame in container.decode(container.streams.video[0]):
                picked = frame
                if frame.time is not None and frame.time >= seconds:
                    break
    except (av.error.FFmpegError, IndexError, OSError, ValueError):
        pass  # frames decoded before a damaged part still make a poster
    return picked.to_image() if picked is not None else None


Level = Literal["quick", "full"]


def damage(folder: Path, record: JobRecord, level: Level = "quick") -> str | None:
    """Why a done job's video is not intact, or None when it is: the one check `plan`,
    `run` and `verify` share.

    `quick` (plan, run): the file is there with its recorded size, and either untouched
    since we wrote it (same mtime, as git's index trusts) or re-hashing to its sha256.
    `full` (verify): always re-hashed, then opened and probed as a video.
    """
    if not record.path or record.sha256 is None:
        return "the lock records no file for this finished job"
    path = folder / record.path
    try:
        stat = path.stat()
    except OSError:
        return "the file is missing"
    if stat.st_size != record.bytes:
        size = f"{stat.st_size} bytes, the lock says {record.bytes}"
        return f"the file has {size} (truncated or replaced)"
    if level == "quick" and stat.st_mtime_ns == record.mtime_ns:
        return None
    if sha256_file(path) != record.sha256:
        return "the content differs from the lock's sha256 (corrupted)"
    if level == "full":
        try:
            _probe(path)
        except MediaError as exc:
            return f"not a readable video ({exc})"
    return None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
