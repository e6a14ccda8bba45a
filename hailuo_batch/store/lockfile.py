"""The lockfile: the journal folded into one deterministic, diff-friendly document. Does I/O.

`manifest.lock.json` is rewritten atomically at checkpoints and at the end: sorted keys,
no wall-clock time, so an unchanged folder gives a byte-identical file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from hailuo_batch import __version__
from hailuo_batch.core.layout import LOCKFILE
from hailuo_batch.store.atomic import atomic_write
from hailuo_batch.store.fold import RunState

LOCK_FORMAT = 1


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
