"""The fold of a journal: a `JobRecord` per job key, as its events say. Reads the journal.

`journal.jsonl` is the truth: one event per line (`core.events`), appended as things
happen; a `RunState` is what folding those events gives, and the lockfile is its
snapshot. Folding is deterministic and depends only on the events. Times are epoch
seconds; money is USD.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import orjson

from hailuo_batch.core import events as ev
from hailuo_batch.core.jobs import JobState
from hailuo_batch.core.layout import JOURNAL
from hailuo_batch.errors import JournalError


@dataclass(frozen=True, slots=True)
class JobError:
    """Why a job is failed (or what went wrong last): a kind of the shared taxonomy, the
    provider's or our message, and the stage it happened at."""

    kind: str
    message: str
    stage: str = "submit"  # submit | task | download

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message, "stage": self.stage}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobError:
        return cls(
            str(data["kind"]), str(data.get("message", "")), str(data.get("stage") or "submit")
        )


@dataclass(slots=True)
class JobRecord:
    """Everything known about one job (by key), as folded from the journal."""

    key: str
    id: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    sample: int = 0
    source: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    state: JobState = "pending"
    provider: str | None = None  # who holds (or made) the task
    task_id: str | None = None
    attempts: int = 0  # submits that may have reached a provider
    sent_at: float | None = None  # when the last submit went out
    cost_usd: float = 0.0  # what those submits cost, where the price is known
    unpriced: int = 0  # submits that may have been paid, at a price nobody knows
    charged_usd: float | None = None  # what the provider itself reported it cost
    path: str | None = None  # the video, relative to the output folder
    sha256: str | None = None
    bytes: int | None = None
    mtime_ns: int | None = None  # when we wrote it: an unchanged file need not be re-hashed
    media: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    error: JobError | None = None
    possible_duplicates: int = 0
    providers_tried: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # how the delivered video differs
    simulated: bool = False  # made by the built-in simulator: never a real, paid video
    in_manifest: bool = True  # set by the lock: the job belongs to the last manifest run

    def to_json(self) -> dict[str, Any]:
        """The record as the lockfile stores it (shallow: nested values are shared)."""
        # not dataclasses.asdict: it deep-copies, 2 s per 10k records
        data = {name: getattr(self, name) for name in _RECORD_FIELDS}
        data["error"] = self.error.to_json() if self.error else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        values = {name: data[name] for name in _RECORD_FIELDS if name in data}
        error = data.get("error")
        values["error"] = JobError.from_json(error) if isinstance(error, dict) else None
        return cls(**values)


_RECORD_FIELDS = tuple(f.name for f in fields(JobRecord))


@dataclass(frozen=True, slots=True)
class Spend:
    """Money a folder's submits may have cost: known prices summed, and how many submits
    were at an unknown price. `str()` never shows a guess as a figure."""

    known_usd: float = 0.0
    unpriced: int = 0

    def __str__(self) -> str:
        if not self.unpriced:
            return f"${self.known_usd:.2f}"
        submits = f"{self.unpriced} submit(s) at an unknown price"
        if self.known_usd > 0:
            return f"at least ${self.known_usd:.2f} ({submits})"
        return f"unknown ({submits})"

    def to_json(self) -> dict[str, object]:
        return {"known_usd": self.known_usd, "unpriced_submits": self.unpriced}


@dataclass(frozen=True, slots=True)
class OutOfService:
    """A provider the last run took out of service, why, and how many jobs left it."""

    provider: str
    reason: str
    moved: int

    def to_json(self) -> dict[str, object]:
        return {"provider": self.provider, "reason": self.reason, "moved": self.moved}


@dataclass(slots=True)
class RunState:
    """The fold of a journal: a record per job key, and what the runs that wrote it said."""

    jobs: dict[str, JobRecord] = field(default_factory=dict)
    runs: int = 0
    changes: int = 0  # job events folded in: an unchanged count means an unchanged lock
    simulated: bool = False  # the last run was against the simulator
    out_of_service: dict[str, OutOfService] = field(default_factory=dict)  # in the last run

    def record(self, key: str) -> JobRecord:
        found = self.jobs.get(key)
        if found is None:
            found = self.jobs[key] = JobRecord(key)
        return found

    def apply(self, event: ev.Event) -> None:
        """Fold one event in."""
        if isinstance(event, ev.JobEvent):
            self.changes += 1
            _APPLY[type(event)](self.record(event.key), event)
        elif isinstance(event, ev.RunStarted):
            self.runs += 1
            self.simulated = event.simulated
            self.out_of_service = {}
        elif isinstance(event, ev.ProviderDown):  # again for jobs that left it later
            known = self.out_of_service.get(event.provider)
            reason = known.reason if known else event.reason
            moved = event.moved + (known.moved if known else 0)
            self.out_of_service[event.provider] = OutOfService(event.provider, reason, moved)

    def spend(self, keys: Iterable[str] | None = None) -> Spend:
        """What the real (not simulated) submits of these jobs (all by default) may have cost."""
        records = self.jobs.values() if keys is None else (self.jobs[k] for k in keys)
        known, unpriced = 0.0, 0
        for rec in records:
            if not rec.simulated:
                known += rec.cost_usd
                unpriced += rec.unpriced
        return Spend(round(known, 6), unpriced)

    @property
    def spend_usd(self) -> float:
        """The known part of the folder's spend (what a budget counts)."""
        return self.spend().known_usd


def _declared(rec: JobRecord, event: ev.JobDeclared) -> None:
    rec.id, rec.request, rec.sample = event.id, event.request, event.sample
    rec.source, rec.meta = event.source, event.meta


def _intent(rec: JobRecord, event: ev.SubmitIntent) -> None:
    rec.state, rec.provider, rec.simulated = "submitting", event.provider, event.simulated
    rec.attempts, rec.sent_at = rec.attempts + 1, event.t
    if event.provider not in rec.providers_tried:
        rec.providers_tried.append(event.provider)


def _accepted(rec: JobRecord, event: ev.Accepted) -> None:
    rec.state, rec.task_id = "submitted", event.task_id
    _charge(rec, event.cost_usd)
    rec.timings["submitted"] = event.t


def _charge(rec: JobRecord, cost: float | None) -> None:
    # journals of 0.1.0 wrote 0.0 for an unknown price; it reads as free, as it did then
    if cost is None:
        rec.unpriced += 1
    else:
        rec.cost_usd = round(rec.cost_usd + cost, 6)


def _not_sent(rec: JobRecord, event: ev.NotSent) -> None:
    rec.state, rec.attempts = "pending", max(rec.attempts - 1, 0)
    rec.error = JobError("not_sent", event.message)


def _refused(rec: JobRecord, event: ev.Refused) -> None:
    rec.state, rec.attempts = "pending", max(rec.attempts - 1, 0)
    rec.error = JobError(event.kind, event.message)


def _no_answer(rec: JobRecord, event: ev.NoAnswer) -> None:
    rec.state = "unknown"
    rec.error = JobError("unknown", event.message)


def _resubmit(rec: JobRecord, event: ev.Resubmit) -> None:
    rec.state, rec.task_id = "pending", None
    if event.possible_duplicate:  # the lost submit may have been paid for
        rec.possible_duplicates += 1
        _charge(rec, event.cost_usd)


def _progressed(rec: JobRecord, event: ev.Progressed) -> None:
    rec.state = event.state
    if event.state == "running":
        rec.timings.setdefault("started", event.t)


def _downloading(rec: JobRecord, event: ev.Downloading) -> None:
    rec.state = "downloading"
    rec.timings.setdefault("finished", event.t)


def _done(rec: JobRecord, event: ev.Done) -> None:
    rec.state, rec.error = "done", None
    rec.path, rec.sha256, rec.bytes = event.path, event.sha256, event.bytes
    rec.mtime_ns, rec.media = event.mtime_ns, event.media
    rec.warnings = list(event.warnings)
    if event.charged_usd is not None:
        rec.charged_usd = event.charged_usd
    rec.timings["downloaded"] = event.t


def _failed(rec: JobRecord, event: ev.Failed) -> None:
    rec.state = "failed"
    # 0.1.0 journals had no stage: its `expired` failures were all at the download
    stage = "download" if event.kind == "expired" and rec.task_id else event.stage
    rec.error = JobError(event.kind, event.message, stage)


def _retry(rec: JobRecord, event: ev.Retry) -> None:
    if rec.task_id and event.download:
        rec.state = "downloading"
        return
    rec.state, rec.task_id = "pending", None
    if rec.simulated:  # a simulated video is made for real: nothing of it is kept
        rec.simulated = False
        rec.path = rec.sha256 = rec.media = rec.bytes = rec.mtime_ns = None
        rec.provider, rec.cost_usd, rec.unpriced, rec.attempts = None, 0.0, 0, 0
        rec.warnings, rec.timings, rec.possible_duplicates = [], {}, 0


def _moved(rec: JobRecord, event: ev.Moved) -> None:
    rec.path = event.path


_APPLY: dict[type[Any], Callable[[JobRecord, Any], None]] = {
    ev.JobDeclared: _declared,
    ev.SubmitIntent: _intent,
    ev.Accepted: _accepted,
    ev.NotSent: _not_sent,
    ev.Refused: _refused,
    ev.NoAnswer: _no_answer,
    ev.Resubmit: _resubmit,
    ev.Progressed: _progressed,
    ev.Downloading: _downloading,
    ev.Done: _done,
    ev.Failed: _failed,
    ev.Retry: _retry,
    ev.Moved: _moved,
}


def read_events(path: Path) -> Iterator[ev.Event]:
    """The journal's events; a torn last line (a crash mid-write) is ignored, unknown kinds
    (from a newer tool) are skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    lines = data.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        try:
            loaded = orjson.loads(line)
            event = ev.from_json(loaded) if isinstance(loaded, dict) else None
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            if number == len(lines):
                return  # torn tail
            raise JournalError(f"{path}:{number}: not a journal event ({exc})") from None
        if event is not None:
            yield event


def fold(events: Iterable[ev.Event]) -> RunState:
    state = RunState()
    for event in events:
        state.apply(event)
    return state


def load_state(folder: Path) -> RunState:
    """The state of an output folder (empty when there is none yet)."""
    return fold(read_events(folder / JOURNAL))
