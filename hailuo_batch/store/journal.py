"""The journal: `journal.jsonl`, appended event by event, made durable by group commit. Does I/O.

Every line is written at once (a crash of the process loses nothing written); fsync,
which protects against a power cut and costs milliseconds, runs in a thread and is
shared by everyone waiting for it (`commit`), so the event loop never blocks on the
disk. The engine awaits `commit()` before acting on an event that records money or a
task id.

A full disk must not cost a task id: the journal keeps a small reserve file beside it
(`.hailuo-batch.reserve`). When an append finds no space, the reserve is given back and
the append tried again, so the answers still arriving while the run stops are recorded;
`out_of_space` then tells the engine to stop. Only if even that fails does an append
raise `DiskFullError`.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from hailuo_batch.core.events import Event
from hailuo_batch.core.layout import JOURNAL, RESERVE
from hailuo_batch.errors import DiskFullError

if TYPE_CHECKING:
    import asyncio

RESERVE_BYTES = 1 << 20  # room for a few thousand events after the disk fills up
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in NO_SPACE


def free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


class Journal:
    """Appends events to `journal.jsonl`; `commit()` makes them durable (group commit)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / JOURNAL
        _drop_torn_tail(self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._size = os.fstat(self._fd).st_size
        self._written = 0  # events appended
        self._synced = 0  # events known to be on disk
        self._syncing: asyncio.Future[None] | None = None
        self.out_of_space = False
        self._reserve = folder / RESERVE
        try:
            _make_reserve(self._reserve)
        except OSError as exc:
            os.close(self._fd)
            if is_disk_full(exc):
                raise DiskFullError(str(folder), free_bytes(folder)) from None
            raise

    def append(self, event: Event) -> None:
        """Write one event's line now; raise DiskFullError only if even the reserve is gone."""
        data = orjson.dumps(event.to_json()) + b"\n"
        try:
            self._write(data)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            self.out_of_space = True
            self._reserve.unlink(missing_ok=True)  # give back the room kept for this
            try:
                self._write(data)
            except OSError as again:
                if is_disk_full(again):
                    raise DiskFullError(str(self.folder), free_bytes(self.folder)) from None
                raise
        self._written += 1

    def _write(self, data: bytes) -> None:
        """All of `data` or nothing: a partial line is cut off before the error goes up."""
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            os.ftruncate(self._fd, self._size)
            raise
        self._size += len(data)

    async def commit(self) -> None:
        """Return once every event appended so far is on disk."""
        import asyncio  # here, not at the top: `validate` and `plan` read state without it

        target = self._written
        while self._synced < target:
            if self._syncing is None:
                self._syncing = asyncio.ensure_future(self._fsync())
            await asyncio.shield(self._syncing)

    async def _fsync(self) -> None:
        import asyncio

        upto = self._written
        try:
            await asyncio.to_thread(os.fsync, self._fd)
            self._synced = max(self._synced, upto)
        finally:
            self._syncing = None

    def sync(self) -> None:
        """Make everything durable now, blocking: for the end of a run."""
        if self._synced < self._written and self._fd >= 0:
            os.fsync(self._fd)
            self._synced = self._written

    def close(self) -> None:
        if self._fd >= 0:
            self.sync()
            os.close(self._fd)
            self._fd = -1
            self._reserve.unlink(missing_ok=True)


def _make_reserve(path: Path) -> None:
    """Hold `RESERVE_BYTES` of real disk blocks (not a sparse file) for the journal."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        if os.fstat(fd).st_size < RESERVE_BYTES:
            try:
                os.posix_fallocate(fd, 0, RESERVE_BYTES)
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                os.write(fd, bytes(RESERVE_BYTES))  # no fallocate here: write the blocks
    except OSError:
        path.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


def _drop_torn_tail(path: Path) -> None:
    """Cut a partial last line left by a crash, so the next event starts on its own line."""
    try:
        with path.open("rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            handle.seek(0)
            handle.truncate(handle.read().rfind(b"\n") + 1)
    except FileNotFoundError:
        return
