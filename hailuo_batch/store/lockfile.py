"""The lockfile: the journal folded into one deterministic, diff-friendly document. Does I/O.

`manifest.lock.json` is rewritten atomically at checkpoints and at the end: sorted keys,
no wall-clock time, so an unchanged folder gives a byte-identical file. Its shape is
`schemas/lockfile.schema.json`. Writers build it as JSON from a `RunState` (a snapshot,
so later events cannot change what was written); readers get a typed `LockDocument`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from hailuo_batch import __version__
from hailuo_batch.core.layout import LOCKFILE
from hailuo_batch.store.atomic import atomic_write
from hailuo_batch.store.fold import JobRecord, OutOfService, RunState, Spend

LOCK_FORMAT = 2
"""2: typed errors with a stage, `meta`, `simulated`, `unpriced`, `spend`, `out_of_service`."""

JsonDocument = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ManifestInfo:
    """The manifest a folder was last run with."""

    path: str = ""
    sha256: str = ""
    name: str = ""

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "sha256": self.sha256, "name": self.name}


@dataclass(slots=True)
class LockDocument:
    """A lockfile, read back: what every reader of an output folder works from."""

    manifest: ManifestInfo = field(default_factory=ManifestInfo)
    tool_version: str = ""
    simulated: bool = False  # the last run was against the simulator
    spend: Spend = field(default_factory=Spend)
    out_of_service: list[OutOfService] = field(default_factory=list)
    jobs: dict[str, JobRecord] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockDocument:
        manifest = data.get("manifest") or {}
        spend = data.get("spend") or {"known_usd": data.get("spend_usd", 0.0)}
        return cls(
            manifest=ManifestInfo(
                str(manifest.get("path") or ""),
                str(manifest.get("sha256") or ""),
                str(manifest.get("name") or ""),
            ),
            tool_version=str((data.get("tool") or {}).get("version", "")),
            simulated=bool(data.get("simulated", False)),
            spend=Spend(
                float(spend.get("known_usd") or 0.0), int(spend.get("unpriced_submits", 0))
            ),
            out_of_service=[
                OutOfService(str(o["provider"]), str(o["reason"]), int(o.get("moved", 0)))
                for o in data.get("out_of_service") or []
            ],
            jobs={key: JobRecord.from_json(job) for key, job in (data.get("jobs") or {}).items()},
        )

    def current(self) -> list[JobRecord]:
        """The jobs of the manifest the folder was last run with, in natural id order."""
        return sorted(
            (job for job in self.jobs.values() if job.in_manifest),
            key=lambda job: (natural_key(job.id), job.key),
        )

    def superseded(self) -> list[JobRecord]:
        """Paid videos of jobs that left the manifest (a prompt was edited, say): kept on
        disk, never overwritten, listed because they were paid for."""
        return sorted(
            (
                job
                for job in self.jobs.values()
                if not job.in_manifest and job.state == "done" and job.path and not job.simulated
            ),
            key=lambda job: (natural_key(job.id), job.key),
        )


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sorts `c2` before `c10`: digit runs compare as numbers."""
    return tuple(
        (1, int(part)) if part.isdigit() else (0, part.casefold())
        for part in _DIGITS.split(text)
        if part
    )


def lock_document(
    state: RunState, current_keys: frozenset[str] | None, manifest: ManifestInfo
) -> JsonDocument:
    """The lockfile's content as JSON: deterministic (no wall-clock time), sorted by key."""
    jobs = {}
    for key in sorted(state.jobs):
        record = state.jobs[key].to_json()
        record["in_manifest"] = current_keys is None or key in current_keys
        jobs[key] = record
    current = None if current_keys is None else [k for k in current_keys if k in state.jobs]
    spend = state.spend(current)
    return {
        "format": LOCK_FORMAT,
        "tool": {"name": "hailuo-batch", "version": __version__},
        "manifest": manifest.to_json(),
        "simulated": state.simulated,
        "spend": spend.to_json(),
        "spend_usd": spend.known_usd,
        "out_of_service": [o.to_json() for o in state.out_of_service.values()],
        "jobs": jobs,
    }


def write_lock(folder: Path, document: Mapping[str, Any]) -> None:
    atomic_write(
        folder / LOCKFILE,
        orjson.dumps(
            document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
        ),
    )


def read_lock_json(folder: Path) -> JsonDocument | None:
    """The lockfile as JSON, None when the folder has none."""
    try:
        loaded: JsonDocument = orjson.loads((folder / LOCKFILE).read_bytes())
    except FileNotFoundError:
        return None
    return loaded


def read_lock(folder: Path) -> LockDocument | None:
    """The lockfile, typed; None when the folder has none."""
    data = read_lock_json(folder)
    return None if data is None else LockDocument.from_json(data)
