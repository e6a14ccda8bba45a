"""What an output folder holds, from disk only: `status` and the done set. Reads files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hailuo_batch.store.fold import load_state
from hailuo_batch.store.lockfile import read_lock


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
