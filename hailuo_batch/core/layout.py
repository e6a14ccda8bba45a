"""The output folder's layout: every name in it, in one place. No I/O.

journal.jsonl         the truth: append-only events
manifest.lock.json    the journal folded (deterministic, diff-friendly)
videos/<id>.mp4       finished videos (written as `.part`, then renamed)
thumbs/<id>.jpg       their poster frames
videos/metadata.jsonl the same lines, for Hugging Face `datasets` (videofolder)
results.jsonl         the data set's index; results.csv and results.parquet on demand
report.html           the gallery
.hailuo-batch.lock    the folder lock of the run in progress
.simulator/           the simulator's task file under `run --simulate`
"""

from __future__ import annotations

from pathlib import PurePosixPath

JOURNAL = "journal.jsonl"
LOCKFILE = "manifest.lock.json"
FOLDER_LOCK = ".hailuo-batch.lock"
RESERVE = ".hailuo-batch.reserve"
VIDEOS = "videos"
THUMBS = "thumbs"
RESULTS = "results.jsonl"
RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
METADATA = f"{VIDEOS}/metadata.jsonl"
REPORT = "report.html"
SIMULATOR = ".simulator"


def video_path(job_id: str) -> str:
    """Where a job's video goes, relative to the folder."""
    return f"{VIDEOS}/{job_id}.mp4"


def superseded_path(video: str, tag: str) -> str:
    """Where a paid video is moved when another takes its place: beside it, with a tag
    (the owner's key) no job id can produce, since ids cannot hold `~`."""
    path = PurePosixPath(video)
    return str(path.with_name(f"{path.stem}~{tag}{path.suffix}"))


def poster_path(video: str) -> str:
    """Where a video's poster frame goes, both relative to the output folder."""
    return f"{THUMBS}/{PurePosixPath(video).stem}.jpg"
