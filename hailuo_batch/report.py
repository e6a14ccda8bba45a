"""The output folder's derived files: `results.jsonl` (the data set's index), `results.csv`
and `report.html` with its poster frames, all built from the lockfile. Writes files.

Every file here can be rebuilt at any time from `manifest.lock.json` alone, without the
network (`hailuo-batch report DIR`). During a run, `LiveReport` keeps them current:
a results line is appended the moment a video is done (never held back in memory),
the gallery is rewritten at checkpoints so a long run can be watched, and at the
end both are rewritten complete, sorted by job id. Only jobs of the current manifest
are listed; jobs that left it stay in the lockfile. Times are epoch seconds.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from hailuo_batch import gallery, media
from hailuo_batch.atomic import atomic_write
from hailuo_batch.errors import NotAnOutputFolderError
from hailuo_batch.state import Event, JobRecord, read_lock

RESULTS = "results.jsonl"
RESULTS_CSV = "results.csv"
REPORT = "report.html"
THUMBS = "thumbs"
OUTPUTS = (RESULTS, REPORT)  # what a run keeps current in the output folder
TIMINGS = ("submitted", "started", "finished", "downloaded")

DEFAULT_FORMATS = ("html", "jsonl")  # of "html", "jsonl", "csv"

CSV_COLUMNS = (
    "id", "key", "path", "sha256", "bytes", "model", "prompt", "image", "image_sha256",
    "end_image", "end_image_sha256", "duration", "resolution", "prompt_optimizer",
    "fast_pretreatment", "sample", "provider", "task_id", "attempts", "cost_usd",
    *TIMINGS, "container", "codec", "width", "height", "fps", "frames", "media_duration",
    "warnings", "source", "manifest", "manifest_sha256", "tool_version",
)  # fmt: skip


def result_row(
    job: Mapping[str, Any], manifest: Mapping[str, Any], tool_version: str
) -> dict[str, Any]:
    """One finished video as a line of `results.jsonl`: enough to rebuild or audit it.

    Nested objects have sorted keys, so a line is the same whether it was streamed from
    the run's records or rebuilt from the lockfile (which stores keys sorted).
    """
    timings = job.get("timings") or {}
    return {
        "id": job["id"],
        "key": job["key"],
        "path": job["path"],
        "sha256": job["sha256"],
        "bytes": job["bytes"],
        "request": _sorted({**(job.get("request") or {}), "sample": job.get("sample", 0)}),
        "provider": job.get("provider"),
        "task_id": job.get("task_id"),
        "attempts": job.get("attempts", 0),
        "timings": {name: timings.get(name) for name in TIMINGS},
        "cost_usd": job.get("cost_usd", 0.0),
        "media": _sorted(job.get("media")),
        "warnings": list(job.get("warnings") or []),
        "source": _sorted(job.get("source")),
        "manifest": {"name": manifest.get("name"), "sha256": manifest.get("sha256")},
        "tool": {"name": "hailuo-batch", "version": tool_version},
    }


def current_jobs(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The lockfile's jobs that belong to the manifest it was last run with, by id."""
    jobs = [job for job in document.get("jobs", {}).values() if job.get("in_manifest", True)]
    return sorted(jobs, key=lambda job: (str(job.get("id", "")), job.get("key", "")))


def result_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    manifest = document.get("manifest") or {}
    version = str((document.get("tool") or {}).get("version", ""))
    return [
        result_row(job, manifest, version)
        for job in current_jobs(document)
        if job.get("state") == "done"
    ]


def write_results(folder: Path, document: Mapping[str, Any]) -> Path:
    """Rewrite `results.jsonl` complete: one line per finished video of the manifest."""
    path = folder / RESULTS
    atomic_write(path, b"".join(_line(row) for row in result_rows(document)))
    return path


def write_csv(folder: Path, document: Mapping[str, Any]) -> Path:
    """`results.csv`: the same rows, flattened, UTF-8 with a BOM so spreadsheets read it."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(_flat(row) for row in result_rows(document))
    path = folder / RESULTS_CSV
    atomic_write(path, buffer.getvalue().encode("utf-8-sig"))
    return path


def write_html(folder: Path, document: Mapping[str, Any], *, now: float | None = None) -> Path:
    """Rewrite `report.html`; a finished video without a poster frame gets one first."""
    jobs = current_jobs(document)
    posters = {}
    for job in jobs:
        poster = _poster(folder, job)
        if poster is not None:
            posters[job["key"]] = poster
    page = gallery.render_page(document, jobs, posters, time.time() if now is None else now)
    path = folder / REPORT
    atomic_write(path, page.encode())
    return path


def build_report(folder: Path, formats: Iterable[str] = DEFAULT_FORMATS) -> list[Path]:
    """(Re)write the asked outputs ("html", "jsonl", "csv") of a folder from its lockfile."""
    document = read_lock(folder)
    if document is None:
        raise NotAnOutputFolderError(str(folder))
    writers = {"html": write_html, "jsonl": write_results, "csv": write_csv}
    return [writers[fmt](folder, document) for fmt in dict.fromkeys(formats)]


class LiveReport:
    """A run's outputs as it goes: results lines as videos finish, the gallery at checkpoints.

    `on_event` is an engine listener; `checkpoint(document)` is called with each new
    lockfile document, `finish()` once at the end, after the last checkpoint. Checkpoints
    run on the event loop, so the gallery is rewritten only once it has been stale for
    `STALE_FACTOR` times as long as its last rewrite took: its cost stays a tenth of
    the run at most (10k jobs take about 0.3 s to render), however large the batch.
    """

    STALE_FACTOR = 10

    def __init__(
        self,
        folder: Path,
        document: Mapping[str, Any],
        clock: Callable[[], float] = time.monotonic,
        *,
        up_to_date: bool = False,
    ) -> None:
        self.folder = folder
        self._document = document
        # a re-run that changes nothing rewrites nothing: 0.8 s saved on 10k finished jobs
        self._unchanged_from = document if up_to_date else None
        self._manifest = document.get("manifest") or {}
        self._version = str((document.get("tool") or {}).get("version", ""))
        self._clock = clock
        # the document report.html shows
        self._rendered: Mapping[str, Any] | None = document if up_to_date else None
        self._due = clock()
        if not up_to_date:
            write_results(folder, document)  # from here on, lines are only appended

    def on_event(self, event: Event, record: JobRecord | None) -> None:
        if event.get("ev") != "done" or record is None:
            return
        line = _line(result_row(record.to_json(), self._manifest, self._version))
        with (self.folder / RESULTS).open("ab") as handle:
            handle.write(line)

    def checkpoint(self, document: Mapping[str, Any]) -> None:
        self._document = document
        if self._clock() >= self._due and document != self._rendered:
            self._render()

    def finish(self) -> None:
        if self._unchanged_from is not None and self._document == self._unchanged_from:
            return
        if self._rendered is not self._document:
            self._render()
        write_results(self.folder, self._document)

    def _render(self) -> None:
        started = self._clock()
        write_html(self.folder, self._document)
        self._rendered = self._document
        finished = self._clock()
        self._due = finished + (finished - started) * self.STALE_FACTOR


def poster_path(video: str) -> str:
    """Where a video's poster frame goes, both relative to the output folder."""
    return f"{THUMBS}/{Path(video).stem}.jpg"


def _poster(folder: Path, job: Mapping[str, Any]) -> str | None:
    """The poster's path relative to the folder, extracting it if the video has none yet."""
    video = job.get("path")
    if job.get("state") != "done" or not video:
        return None
    relative = poster_path(video)
    if (folder / relative).exists():
        return relative
    if (folder / video).exists() and media.save_poster(folder / video, folder / relative):
        return relative
    return None


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    return value


def _line(row: Mapping[str, Any]) -> bytes:
    return orjson.dumps(row) + b"\n"


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    """A results row as one CSV record (columns `CSV_COLUMNS`)."""
    request, facts, timings = row["request"], row.get("media") or {}, row["timings"]
    image, end = request.get("image") or {}, request.get("end_image") or {}
    source = row.get("source") or {}
    return {
        **{name: row.get(name) for name in ("id", "key", "path", "sha256", "bytes")},
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


def _iso(seconds: float | None) -> str | None:
    """A spreadsheet-friendly UTC time ("2025-06-01T12:00:00.250Z")."""
    if seconds is None:
        return None
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds % 1 * 1000):03d}Z"
