"""What an output folder holds, from disk only: what `status` shows. Reads files.

The journal is the truth (a run in its first seconds has no lockfile yet); the lockfile
says which jobs belong to the manifest last run. A folder with neither is not an
output folder.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hailuo_batch.store.fold import JobRecord, OutOfService, Spend, load_state
from hailuo_batch.store.folder import lock_json


@dataclass(frozen=True, slots=True)
class Failure:
    id: str
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class FolderStatus:
    """Counts per state, failures with reasons, warnings, spend, and what was paid for but
    is not a current video (superseded) or not real (simulated)."""

    folder: str
    jobs: int
    by_state: dict[str, int]
    spend: Spend
    simulated: int  # current jobs whose video or task is the simulator's
    failures: list[Failure]
    warnings: dict[str, list[str]]  # job id -> how its video differs from the request
    possible_duplicates: int
    superseded: list[JobRecord]  # paid videos of jobs that left the manifest
    out_of_service: list[OutOfService]  # providers the last run took out of service
    left_manifest: int

    def to_json(self) -> dict[str, object]:
        return {
            "folder": self.folder,
            "jobs": self.jobs,
            "by_state": self.by_state,
            "spend": self.spend.to_json(),
            "spend_usd": self.spend.known_usd,
            "spend_text": str(self.spend),
            "simulated": self.simulated,
            "failures": [{"id": f.id, "kind": f.kind, "message": f.message} for f in self.failures],
            "warnings": [{"id": i, "warnings": w} for i, w in self.warnings.items()],
            "possible_duplicates": self.possible_duplicates,
            "superseded": [
                {"id": r.id, "key": r.key, "path": r.path, "provider": r.provider}
                for r in self.superseded
            ],
            "out_of_service": [o.to_json() for o in self.out_of_service],
            "left_manifest": self.left_manifest,
        }


def folder_status(folder: Path) -> FolderStatus:
    """The status of an output folder; NotAnOutputFolderError if no run wrote to it."""
    lock = lock_json(folder) or {}
    state = load_state(folder)
    in_manifest = {k: bool(v.get("in_manifest", True)) for k, v in lock.get("jobs", {}).items()}
    current = [r for k, r in sorted(state.jobs.items()) if in_manifest.get(k, True)]
    left = [r for k, r in sorted(state.jobs.items()) if not in_manifest.get(k, True)]
    return FolderStatus(
        folder=str(folder),
        jobs=len(current),
        by_state=dict(sorted(Counter(r.state for r in current).items())),
        spend=state.spend(),
        simulated=sum(r.simulated for r in current),
        failures=[
            Failure(r.id, r.error.kind if r.error else "?", r.error.message if r.error else "")
            for r in current
            if r.state == "failed"
        ],
        warnings={r.id: r.warnings for r in current if r.warnings},
        possible_duplicates=sum(r.possible_duplicates for r in state.jobs.values()),
        superseded=[r for r in left if r.state == "done" and r.path and not r.simulated],
        out_of_service=list(state.out_of_service.values()),
        left_manifest=len(left),
    )
