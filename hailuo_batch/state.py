"""Run state on disk: the append-only journal, its fold, the lockfile, the folder lock. Does I/O.

`journal.jsonl` is the truth: one JSON event per line, appended as things happen.
Lines are written at once; fsync is a shared group commit (see `Journal`), awaited
before the engine acts on an event that records money or a task id.
`manifest.lock.json` is the fold of the journal, rewritten atomically at checkpoints
and at the end: deterministic, sorted, diff-friendly. Times are epoch seconds.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

import orjson

from hailuo_batch import __version__
from hailuo_batch.atomic import atomic_write
from hailuo_batch.errors import OutputLockedError
from hailuo_batch.jobs import JobState

if TYPE_CHECKING:
    import asyncio

JOURNAL = "journal.jsonl"
LOCKFILE = "manifest.lock.json"
FOLDER_LOCK = ".hailuo-batch.lock"
LOCK_FORMAT = 1

Event = dict[str, Any]


@dataclass(slots=True)
class JobRecord:
    """Everything known about one job (by key), as folded from the journal."""

    key: str
    id: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    sample: int = 0
    source: dict[str, Any] = field(default_factory=dict)
    state: JobState = "pending"
    provider: str | None = None
    task_id: str | None = None
    attempts: int = 0  # submits that may have reached a provider
    cost_usd: float = 0.0
    path: str | None = None  # relative to the output folder
    sha256: str | None = None
    bytes: int | None = None
    mtime_ns: int | None = None  # when we wrote it: an unchanged file need not be re-hashed
    media: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    error: dict[str, str] | None = None
    possible_duplicates: int = 0
    providers_tried: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # how the delivered video differs

    def to_json(self) -> dict[str, Any]:
        """The record as the lockfile stores it (shallow: nested values are shared)."""
        # not dataclasses.asdict: it deep-copies, 2 s per 10k records
        return {name: getattr(self, name) for name in _RECORD_FIELDS}


@dataclass(slots=True)
class RunState:
    """The fold of a journal: a record per job key, and the runs that wrote it."""

    jobs: dict[str, JobRecord] = field(default_factory=dict)
    runs: int = 0
    changes: int = 0  # job events folded in: an unchanged count means an unchanged lock

    def record(self, key: str) -> JobRecord:
        found = self.jobs.get(key)
        if found is None:
            found = self.jobs[key] = JobRecord(key)
        return found

    def apply(self, event: Event) -> None:
        """Fold one event in; unknown kinds are ignored (a newer tool may write more)."""
        kind = event.get("ev")
        if kind == "run":
            self.runs += 1
            return
        key = event.get("key")
        if not isinstance(key, str):
            return
        rec = self.record(key)
        self.changes += 1
        t = float(event.get("t") or 0.0)
        if kind == "job":
            rec.id, rec.request = event["id"], event["request"]
            rec.sample, rec.source = event["sample"], event["source"]
        elif kind == "submitting":
            rec.state, rec.provider = "submitting", event["provider"]
            rec.attempts += 1
            if event["provider"] not in rec.providers_tried:
                rec.providers_tried.append(event["provider"])
        elif kind == "submitted":
            rec.state, rec.task_id = "submitted", event["task_id"]
            rec.cost_usd = round(rec.cost_usd + float(event.get("cost_usd") or 0.0), 6)
            rec.timings["submitted"] = t
        elif kind == "refused":  # a clear refusal: nothing was created, nothing paid
            rec.state, rec.attempts = "pending", max(rec.attempts - 1, 0)
            rec.error = {"kind": event["kind"], "message": event["message"]}
        elif kind == "unknown":
            rec.state = "unknown"
            rec.error = {"kind": "unknown", "message": event["message"]}
        elif kind == "resubmit":  # after a failed task or an unresolved unknown submit
            rec.state, rec.task_id = "pending", None
            if event.get("possible_duplicate"):  # the lost submit may have been paid for
                rec.possible_duplicates += 1
                rec.cost_usd = round(rec.cost_usd + float(event.get("cost_usd") or 0.0), 6)
        elif kind == "progress":
            rec.state = event["state"]
            if event["state"] == "running":
                rec.timings.setdefault("started", t)
        elif kind == "downloading":
            rec.state = "downloading"
            rec.timings.setdefault("finished", t)
        elif kind == "done":
            rec.state, rec.error = "done", None
            rec.path, rec.sha256, rec.bytes = event["path"], event["sha256"], event["bytes"]
            rec.mtime_ns, rec.media = event.get("mtime_ns"), event.get("media")
            rec.warnings = list(event.get("warnings") or [])
            rec.timings["downloaded"] = t
        elif kind == "failed":
            rec.state = "failed"
            rec.error = {"kind": event["kind"], "message": event["message"]}
        elif kind == "retry":  # --retry-failed, or a done job whose file went missing
            rec.state = "downloading" if rec.task_id and event.get("download") else "pending"
            if rec.state == "pending":
                rec.task_id = None

    @property
    def spend_usd(self) -> float:
        return round(sum(r.cost_usd for r in self.jobs.values()), 6)


_RECORD_FIELDS = tuple(f.name for f in fields(JobRecord))


def read_events(path: Path) -> Iterator[Event]:
    """The journal's events; a torn last line (a crash mid-write) is ignored."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    lines = data.split(b"\n")
    for number, line in enumerate(lines):
        if not line:
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            if number == len(lines) - 1:
                return  # torn tail
            raise
        if isinstance(event, dict):
            yield event


def fold(events: Iterable[Event]) -> RunState:
    state = RunState()
    for event in events:
        state.apply(event)
    return state


def load_state(folder: Path) -> RunState:
    """The state of an output folder (empty when there is none yet)."""
    return fold(read_events(folder / JOURNAL))


def lock_document(
    state: RunState, current_keys: frozenset[str] | None, manifest: Mapping[str, Any]
) -> dict[str, Any]:
    """The lockfile's content: deterministic (no wall-clock time), sorted by key."""
    jobs = {}
    for key in sorted(state.jobs):
        record = state.jobs[key].to_json()
        record["in_manifest"] = current_keys is None or key in current_keys
        jobs[key] = record
    return {
        "format": LOCK_FORMAT,
        "tool": {"name": "hailuo-batch", "version": __version__},
        "manifest": dict(manifest),
        "spend_usd": state.spend_usd,
        "jobs": jobs,
    }


def write_lock(folder: Path, document: Mapping[str, Any]) -> None:
    atomic_write(
        folder / LOCKFILE,
        orjson.dumps(
            document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
        ),
    )


def read_lock(folder: Path) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = orjson.loads((folder / LOCKFILE).read_bytes())
    except FileNotFoundError:
        return None
    return loaded


def done_keys(folder: Path) -> frozenset[str]:
    """Keys whose video is done and still on disk with its recorded size."""
    state = load_state(folder)
    return frozenset(
        key
        for key, rec in state.jobs.items()
        if rec.state == "done" and rec.path and _has_size(folder / rec.path, rec.bytes)
    )


def _has_size(path: Path, size: int | None) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


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


class FolderLock:
    """An exclusive, advisory lock on an output folder for the length of a run."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FOLDER_LOCK
        self._file: IO[str] | None = None

    def __enter__(self) -> FolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            handle.close()
            raise OutputLockedError(str(self.path.parent), holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        self._file = handle
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def folder_status(folder: Path) -> dict[str, Any]:
    """Counts per state, failures with reasons, delivery warnings, spend: what `status`
    shows, from disk only."""
    state = load_state(folder)
    lock = read_lock(folder) or {}
    current = {k for k, v in lock.get("jobs", {}).items() if v.get("in_manifest", True)}
    records = [r for k, r in sorted(state.jobs.items()) if not current or k in current]
    by_state: dict[str, int] = {}
    for rec in records:
        by_state[rec.state] = by_state.get(rec.state, 0) + 1
    return {
        "folder": str(folder),
        "jobs": len(records),
        "by_state": dict(sorted(by_state.items())),
        "spend_usd": state.spend_usd,
        "failures": [
            {
                "id": r.id,
                "kind": (r.error or {}).get("kind"),
                "message": (r.error or {}).get("message"),
            }
            for r in records
            if r.state == "failed"
        ],
        "warnings": [{"id": r.id, "warnings": r.warnings} for r in records if r.warnings],
        "possible_duplicates": sum(r.possible_duplicates for r in records),
        "left_manifest": len(state.jobs) - len(records),
    }
