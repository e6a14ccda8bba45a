"""`report.html` and the `report` command: the gallery and the data-set index rebuilt from
the lockfile alone (the journal, before a run's first checkpoint), without the network.
Writes files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from hailuo_batch.core.layout import METADATA, REPORT, RESULTS, poster_path
from hailuo_batch.outputs import gallery, probe
from hailuo_batch.outputs.parquet import write_parquet
from hailuo_batch.outputs.results import write_csv, write_results
from hailuo_batch.store.atomic import atomic_write
from hailuo_batch.store.fold import JobRecord
from hailuo_batch.store.folder import read_folder
from hailuo_batch.store.lockfile import LockDocument

OUTPUTS = (RESULTS, METADATA, REPORT)  # what a run keeps current in the output folder
DEFAULT_FORMATS = ("html", "jsonl")  # of "html", "jsonl", "csv", "parquet"


def write_html(folder: Path, lock: LockDocument, *, now: float | None = None) -> Path:
    """Rewrite `report.html`; a finished video without a poster frame gets one first."""
    jobs = lock.current()
    posters = {}
    for job in [*jobs, *lock.superseded()]:
        poster = _poster(folder, job)
        if poster is not None:
            posters[job.key] = poster
    page = gallery.render_page(lock, jobs, posters, time.time() if now is None else now)
    path = folder / REPORT
    atomic_write(path, page.encode())
    return path


def build_report(folder: Path, formats: Iterable[str] = DEFAULT_FORMATS) -> list[Path]:
    """(Re)write the asked outputs of a folder from its lockfile (from its journal in a
    run's first seconds): "html", "jsonl" (results.jsonl and videos/metadata.jsonl),
    "csv", "parquet" (MissingPackageError without pyarrow)."""
    lock = read_folder(folder)
    writers: dict[str, Callable[[Path, LockDocument], Path | list[Path]]] = {
        "html": write_html,
        "jsonl": write_results,
        "csv": write_csv,
        "parquet": write_parquet,
    }
    written = [writers[fmt](folder, lock) for fmt in dict.fromkeys(formats)]
    return [path for item in written for path in (item if isinstance(item, list) else [item])]


def _poster(folder: Path, job: JobRecord) -> str | None:
    """The poster's path relative to the folder, extracting it if the video has none yet."""
    video = job.path
    if job.state != "done" or not video:
        return None
    relative = poster_path(video)
    if (folder / relative).exists():
        return relative
    if (folder / video).exists() and probe.save_poster(folder / video, folder / relative):
        return relative
    return None
