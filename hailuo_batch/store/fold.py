"""The fold of a journal: a `JobRecord` per job key, as events say. Reads the journal.

`journal.jsonl` is the truth: one JSON event per line, appended as things happen; a run
state is what folding those events gives. Times are epoch seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import orjson

from hailuo_batch.core.jobs import JobState
from hailuo_batch.core.layout import JOURNAL

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
