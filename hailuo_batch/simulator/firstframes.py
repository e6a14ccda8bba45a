"""First-frame images as the simulator keeps them: decoded once per image, bounded in memory,
and kept on disk beside the task file when there is one. File I/O (with a folder).

Tasks never keep their request's image: a data-URI first frame is decoded once per
distinct image (named by the sha256 of its bytes; URLs are never fetched), shrunk so its
short side is at most `SHORT_SIDE` px (enough for a watermarked stand-in of up to 1080P),
and held in a least-recently-used set bounded in bytes. With a folder (`first-frames/`
beside `SimConfig.state_file`) each is also written there as `<sha256>.png`, so a
restarted simulator, or one that dropped it from memory, draws the same first frame. A
task whose image is gone (no folder and dropped, or deleted) is drawn as the plain test
card: its video keeps its size and length. The methods decode, hash and touch files, so
async callers run them in a thread.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image

SHORT_SIDE = 540
MEMORY_BYTES = 64 * 1024 * 1024  # ~40 decoded 960x540 images
FOLDER_NAME = "first-frames"


class FirstFrames:
    """Decoded first-frame images by sha256 digest; thread-safe."""

    __slots__ = ("_adding", "_images", "_lock", "_size", "budget", "folder")

    def __init__(self, folder: Path | None = None, *, budget: int = MEMORY_BYTES) -> None:
        self.folder = folder
        self.budget = budget
        self._lock = threading.Lock()  # guards the fields below, never held while decoding
        self._images: OrderedDict[str, Image.Image] = OrderedDict()
        self._size = 0
        self._adding: dict[str, threading.Lock] = {}

    def __repr__(self) -> str:
        return f"<FirstFrames images={len(self._images)} bytes={self._size}/{self.budget}>"

    @classmethod
    def beside(cls, state_file: Path | None) -> FirstFrames:
        """The store of a simulator: on disk beside its state file, else memory only."""
        return cls(state_file.parent / FOLDER_NAME if state_file is not None else None)

    def add(self, data: bytes) -> str | None:
        """Keep the image whose encoded bytes are `data`; its digest, or None if unreadable."""
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            if digest in self._images:
                self._images.move_to_end(digest)
                return digest
            adding = self._adding.setdefault(digest, threading.Lock())
        with adding:  # one decode per image, however many submits carry it at once
            try:
                if self._known(digest):
                    return digest
                image = _shrunk(data)
                if image is None:
                    return None
                self._write(digest, image)
                self._keep(digest, image)
                return digest
            finally:
                with self._lock:
                    self._adding.pop(digest, None)

    def get(self, digest: str) -> Image.Image | None:
        """The image, from memory or the folder; None when it is gone."""
        with self._lock:
            kept = self._images.get(digest)
            if kept is not None:
                self._images.move_to_end(digest)
                return kept
        path = self._path(digest)
        if path is None:
            return None
        try:
            with Image.open(path) as stored:
                image: Image.Image = stored.convert("RGB")
        except (OSError, ValueError):  # missing, or damaged by hand: the card stands in
            return None
        self._keep(digest, image)
        return image

    def _known(self, digest: str) -> bool:
        with self._lock:
            if digest in self._images:
                return True
        path = self._path(digest)
        return path is not None and path.exists()

    def _path(self, digest: str) -> Path | None:
        return self.folder / f"{digest}.png" if self.folder is not None else None

    def _write(self, digest: str, image: Image.Image) -> None:
        """Written beside its final name and renamed, so a reader never sees half a PNG."""
        path = self._path(digest)
        if path is None:
            return
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(partial, format="PNG", compress_level=1)
            partial.replace(path)
        except OSError:
            # A full or read-only disk costs only the look after a restart, not the task.
            partial.unlink(missing_ok=True)

    def _keep(self, digest: str, image: Image.Image) -> None:
        size = _bytes(image)
        with self._lock:
            if digest in self._images:
                return
            self._images[digest] = image
            self._size += size
            while self._size > self.budget and self._images:
                _, dropped = self._images.popitem(last=False)
                self._size -= _bytes(dropped)


def _bytes(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


def _shrunk(data: bytes) -> Image.Image | None:
    """`data` decoded as RGB, short side at most `SHORT_SIDE`; None if it cannot be decoded.

    Orientation is the stored one (EXIF is not applied), as the frame size was read.
    """
    try:
        with Image.open(io.BytesIO(data)) as source:
            scale = min(1.0, SHORT_SIDE / min(source.size))
            target = (max(1, round(source.width * scale)), max(1, round(source.height * scale)))
            source.draft("RGB", target)  # a JPEG decodes at 1/2, 1/4 or 1/8 size: faster
            image: Image.Image = source.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    image.thumbnail(target, Image.Resampling.BILINEAR)
    return image
