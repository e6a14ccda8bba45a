"""The journal: `journal.jsonl`, appended event by event, made durable by group commit. Does I/O.

Lines are written at once; fsync is a shared group commit (see `Journal`), awaited
before the engine acts on an event that records money or a task id.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, TYPE_CHECKING

import orjson

from hailuo_batch.core.layout import JOURNAL
from hailuo_batch.store.fold import Event

if TYPE_CHECKING:
    import asyncio


class Journal:
    """Appends events to `journal.jsonl`; `commit()` makes them durable (group commit).

    Every line is written and flushed at once (a crash of the process loses nothing);
    fsync, which protects against a power cut and costs milliseconds, runs in a
    thread and is shared by everyone waiting for it, so the event loop never blocks
    on the disk. The engine awaits `commit()` before acting on an event that records
    money or a task id.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / JOURNAL
        _drop_torn_tail(self.path)
        self._file: IO[bytes] = self.path.open("ab")
        self._written = 0  # events appended
        self._synced = 0  # events known to be on disk
        self._syncing: asyncio.Future[None] | None = None

    def append(self, event: Event) -> None:
        self._file.write(orjson.dumps(event) + b"\n")
        self._file.flush()
        self._written += 1

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
            await asyncio.to_thread(os.fsync, self._file.fileno())
            self._synced = max(self._synced, upto)
        finally:
            self._syncing = None

    def sync(self) -> None:
        """Make everything durable now, blocking: for the end of a run."""
        if self._synced < self._written and not self._file.closed:
            os.fsync(self._file.fileno())
            self._synced = self._written

    def close(self) -> None:
        if not self._file.closed:
            self.sync()
            self._file.close()


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
