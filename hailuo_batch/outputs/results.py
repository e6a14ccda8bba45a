"""The data set's index: `results.jsonl`, `videos/metadata.jsonl` (the same lines, for
Hugging Face `datasets`) and `results.csv`, built from the lockfile. Writes files.

A line of `results.jsonl` holds everything needed to rebuild or audit one video. Only
jobs of the current manifest are listed; jobs that left it stay in the lockfile (and are
listed by `status` and the report when their videos were paid for). results.csv is for
spreadsheets, so a text cell a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from hailuo_batch.core.layout import RESULTS, RESULTS_CSV
from hailuo_batch.outputs.metadata import append_metadata, write_metadata
from hailuo_batch.store.atomic import atomic_write
from hailuo_batch.store.fold import JobRecord
from hailuo_batch.store.lockfile import LockDocument, ManifestInfo

TIMINGS = ("submitted", "started", "finished", "downloaded")

CSV_COLUMNS = (
    "id", "key", "path", "sha256", "bytes", "simulated", "model", "prompt", "image", "image_sha256",
    "end_image", "end_image_sha256", "duration", "resolution", "prompt_optimizer",
    "fast_pretreatment", "sample", "provider", "task_id", "attempts", "cost_usd",
    *TIMINGS, "container", "codec", "width", "height", "fps", "frames", "media_duration",
    "warnings", "source", "manifest", "manifest_sha256", "tool_version",
)  # fmt: skip


def result_row(record: JobRecord, manifest: ManifestInfo, tool_version: str) -> dict[str, Any]:
    """One finished video as a line of `results.jsonl`: enough to rebuild or audit it.

    Nested objects have sorted keys, so a line is the same whether it was streamed from
    the run's records or rebuilt from the lockfile (which stores keys sorted). `cost_usd`
    is None where the price is unknown; `simulated` is true for the simulator's videos,
    which no provider made.
    """
    timings = record.timings
    return {
        "id": record.id,
        "key": record.key,
        "path": record.path,
        "sha256": record.sha256,
        "bytes": record.bytes,
        "simulated": record.simulated,
        "request": _sorted({**record.request, "sample": record.sample}),
        "meta": _sorted(record.meta),
        "provider": record.provider,
        "task_id": record.task_id,
        "attempts": record.attempts,
        "timings": {name: timings.get(name) for name in TIMINGS},
        "cost_usd": None if record.unpriced else record.cost_usd,
        "charged_usd": record.charged_usd,
        "media": _sorted(record.media),
        "warnings": list(record.warnings),
        "source": _sorted(record.source),
        "manifest": {"name": manifest.name, "sha256": manifest.sha256},
        "tool": {"name": "hailuo-batch", "version": tool_version},
    }


def result_rows(lock: LockDocument) -> list[dict[str, Any]]:
    """A line per finished video of the manifest the folder was last run with."""
    return [
        result_row(job, lock.manifest, lock.tool_version)
        for job in lock.current()
        if job.state == "done"
    ]


def write_results(folder: Path, lock: LockDocument) -> list[Path]:
    """Rewrite `results.jsonl` and `videos/metadata.jsonl` complete: one line per finished
    video of the manifest."""
    rows = result_rows(lock)
    path = folder / RESULTS
    atomic_write(path, b"".join(result_line(row) for row in rows))
    return [path, write_metadata(folder, rows)]


def append_result(folder: Path, row: Mapping[str, Any]) -> None:
    """One more finished video, appended to `results.jsonl` and `videos/metadata.jsonl`."""
    with (folder / RESULTS).open("ab") as handle:
        handle.write(result_line(row))
    append_metadata(folder, row)


def write_csv(folder: Path, lock: LockDocument) -> Path:
    """`results.csv`: the same rows, flattened, UTF-8 with a BOM so spreadsheets read it."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(
        {name: neutralised(value) for name, value in _flat(row).items()}
        for row in result_rows(lock)
    )
    path = folder / RESULTS_CSV
    atomic_write(path, buffer.getvalue().encode("utf-8-sig"))
    return path


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    return value


def result_line(row: Mapping[str, Any]) -> bytes:
    return orjson.dumps(row) + b"\n"


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    """A results row as one CSV record (columns `CSV_COLUMNS`)."""
    request, facts, timings = row["request"], row.get("media") or {}, row["timings"]
    image, end = request.get("image") or {}, request.get("end_image") or {}
    source = row.get("source") or {}
    return {
        **{name: row.get(name) for name in ("id", "key", "path", "sha256", "bytes", "simulated")},
        "model": request.get("model"),
        "prompt": request.get("prompt"),
        "image": image.get("source"),
        "image_sha256": image.get("sha256"),
        "end_image": end.get("source"),
        "end_image_sha256": end.get("sha256"),
        **{
            name: request.get(name)
            for name in ("duration", "resolution", "prompt_optimizer", "fast_pretreatment")
        },
        "sample": request.get("sample"),
        **{name: row.get(name) for name in ("provider", "task_id", "attempts", "cost_usd")},
        **{name: _iso(timings.get(name)) for name in TIMINGS},
        **{name: facts.get(name) for name in ("container", "codec", "width", "height")},
        "fps": facts.get("fps"),
        "frames": facts.get("frames"),
        "media_duration": facts.get("duration"),
        "warnings": "; ".join(row.get("warnings") or []),
        "source": f"{source.get('file')}:{source.get('line')}" if source else None,
        "manifest": row["manifest"]["name"],
        "manifest_sha256": row["manifest"]["sha256"],
        "tool_version": row["tool"]["version"],
    }


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet run a cell as a formula (OWASP's CSV injection list)."""


def neutralised(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text, never runs: text starting like a formula
    gets a leading single quote, as OWASP advises (a prompt could hold
    `=HYPERLINK(...)`); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _iso(seconds: float | None) -> str | None:
    """A spreadsheet-friendly UTC time ("2025-06-01T12:00:00.250Z")."""
    if seconds is None:
        return None
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds % 1 * 1000):03d}Z"
