"""Journal events: one frozen dataclass per kind, and their JSON form. No I/O.

The journal (`journal.jsonl`) is a sequence of these, one JSON object per line, with the
kind under `"ev"`. Everything else (the fold, the lock, the display) reads typed events;
only `to_json`/`from_json` know the wire form. `from_json` is lenient in the way an
append-only log must be: fields a newer tool added are ignored, fields an older tool
did not write take their defaults, and an unknown kind is None (skipped by the fold).
Times `t` are epoch seconds.

The submit protocol in events, as journaled for each attempt:

    SubmitIntent ──► Accepted(task_id)     the provider took it: may be paid
                 ├─► NotSent(message)      it never left this machine: nothing paid
                 ├─► Refused(kind)         an answer came back, nothing created
                 └─► NoAnswer(message)     sent, no answer: may be paid (reconcile)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """What every event has: when it happened."""

    KIND: ClassVar[str]
    t: float = 0.0

    def to_json(self) -> JsonObject:
        data: JsonObject = {"ev": self.KIND}
        for name in _FIELDS[type(self)]:
            data[name] = getattr(self, name)
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class JobEvent(Event):
    """An event about one job, by key."""

    key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted(Event):
    """A run began; `simulated` when it runs against the built-in simulator."""

    KIND = "run"
    jobs: int = 0
    simulated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class JobDeclared(JobEvent):
    """The job as the manifest declares it (written when new, or when what is recorded of
    it changes: id, source, meta, or the request's image names)."""

    KIND = "job"
    id: str
    sample: int = 0
    request: JsonObject = field(default_factory=dict)
    source: JsonObject = field(default_factory=dict)
    meta: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitIntent(JobEvent):
    """A submit is about to go out to `provider` (journaled before it is sent)."""

    KIND = "submitting"
    provider: str
    simulated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted(JobEvent):
    """The provider accepted a task; `cost_usd` None when its price is unknown."""

    KIND = "submitted"
    task_id: str
    cost_usd: float | None = None
    reconciled: bool = False  # found in the provider's task list after a lost reply


@dataclass(frozen=True, slots=True, kw_only=True)
class NotSent(JobEvent):
    """The submit never left this machine (no connection, a request that could not be
    built): nothing was created, nothing paid."""

    KIND = "not_sent"
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused(JobEvent):
    """An answer came back refusing the submit: nothing was created, nothing paid."""

    KIND = "refused"
    kind: str
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class NoAnswer(JobEvent):
    """The submit was sent but no usable answer came back: a task may exist, and be paid."""

    KIND = "unknown"
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resubmit(JobEvent):
    """The job goes back to pending to be submitted again.

    After an unresolved `NoAnswer`: `possible_duplicate` says whether that lost submit may
    have been paid (then `cost_usd` is its price, None when unknown). After a failed task:
    `reason` is the failure.
    """

    KIND = "resubmit"
    possible_duplicate: bool = False
    cost_usd: float | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Progressed(JobEvent):
    """The provider reports the task queued or running."""

    KIND = "progress"
    state: Literal["queued", "running"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Downloading(JobEvent):
    """The task succeeded; its video is being fetched."""

    KIND = "downloading"


@dataclass(frozen=True, slots=True, kw_only=True)
class Done(JobEvent):
    """The video is on disk, checked: where, its digest and size, what a probe found."""

    KIND = "done"
    path: str
    sha256: str
    bytes: int
    mtime_ns: int | None = None
    media: JsonObject | None = None
    warnings: list[str] = field(default_factory=list)
    charged_usd: float | None = None  # what the provider reported the task cost


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed(JobEvent):
    """The job ended failed; `stage` says where: `download` failures are retried for free."""

    KIND = "failed"
    kind: str
    message: str = ""
    stage: Literal["submit", "task", "download"] = "submit"


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry(JobEvent):
    """A finished or failed job is taken up again: its video fetched again (`download`),
    or made again (a simulated video made for real, `--retry-failed`, a budget stop)."""

    KIND = "retry"
    download: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Moved(JobEvent):
    """A paid video was moved aside to a name that cannot collide (another job took its
    place); the file is kept, never overwritten."""

    KIND = "moved"
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderDown(Event):
    """A provider was taken out of service for the rest of the run; `moved` jobs left it
    (written again when more jobs leave it later in the run: the counts add up)."""

    KIND = "provider_down"
    provider: str
    reason: str
    moved: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Stopped(Event):
    """The run stopped early, state saved, for `reason`."""

    KIND = "stop"
    reason: str


EVENT_TYPES: tuple[type[Event], ...] = (
    RunStarted,
    JobDeclared,
    SubmitIntent,
    Accepted,
    NotSent,
    Refused,
    NoAnswer,
    Resubmit,
    Progressed,
    Downloading,
    Done,
    Failed,
    Retry,
    Moved,
    ProviderDown,
    Stopped,
)
EVENT_BY_KIND: dict[str, type[Event]] = {cls.KIND: cls for cls in EVENT_TYPES}
_FIELDS: dict[type[Event], tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls)) for cls in EVENT_TYPES
}
_REQUIRED: dict[type[Event], frozenset[str]] = {
    cls: frozenset(
        f.name
        for f in fields(cls)
        if f.default is f.default_factory  # both MISSING
    )
    for cls in EVENT_TYPES
}


def from_json(data: Mapping[str, Any]) -> Event | None:
    """The event a journal line holds; None for a kind this version does not know.

    Raises ValueError when a known kind lacks a field it cannot do without.
    """
    cls = EVENT_BY_KIND.get(data.get("ev"))  # type: ignore[arg-type]
    if cls is None:
        return None
    missing = _REQUIRED[cls] - data.keys()
    if missing:
        raise ValueError(f"{cls.KIND} event without {', '.join(sorted(missing))}")
    values = {name: data[name] for name in _FIELDS[cls] if name in data}
    if values.get("t") is None:
        values.pop("t", None)
    return cls(**values)
