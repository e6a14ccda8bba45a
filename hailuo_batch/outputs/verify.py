"""Verification: does each delivered video match its request, and its lock record? Reads files.

Two checks, one vocabulary of findings:

- `mismatches(request, facts)` (pure) compares what was asked with what a probe of the
  file found: duration within `DURATION_TOLERANCE` seconds, the frame's short side equal
  to the resolution's, at least one frame. The engine runs it on every download and
  journals the result as the job's `warnings`, so a wrong delivery is flagged, not
  silently accepted.
- `verify_folder(folder)` re-checks every finished video of the lockfile: the file is
  there, has the recorded size and sha256, opens as a video, and still passes
  `mismatches`. `hailuo-batch verify` exits 1 on any finding.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hailuo_batch.errors import NotAnOutputFolderError
from hailuo_batch.outputs import probe
from hailuo_batch.store.lockfile import read_lock

DURATION_TOLERANCE = 0.5  # seconds; Hailuo's "6 s" clips are a few frames short of 6 s
SHORT_SIDE_BY_RESOLUTION = {"512P": 512, "720P": 720, "768P": 768, "1080P": 1080}
REFETCH = "run the manifest again: it fetches the video again without paying twice"


def mismatches(request: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    """How a probed video differs from its request (neutral request JSON); empty if it fits."""
    found = []
    frames = facts.get("frames")
    if not frames:
        found.append("the video has no frames")
    asked = request.get("duration")
    got = facts.get("duration")
    if got is None:
        found.append("the video's duration cannot be read")
    elif asked is not None and abs(float(got) - float(asked)) > DURATION_TOLERANCE:
        found.append(f"duration is {float(got):.2f} s, but {asked} s was asked")
    resolution = str(request.get("resolution"))
    short = SHORT_SIDE_BY_RESOLUTION.get(resolution)
    width, height = facts.get("width"), facts.get("height")
    if short and isinstance(width, int) and isinstance(height, int) and min(width, height) != short:
        found.append(
            f"frame size is {width}x{height}, but {resolution} ({short} px short side) was asked"
        )
    return found


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one finished video."""

    job: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: job '{self.job}': {self.problem}"


@dataclass(frozen=True, slots=True)
class Verification:
    """What `verify_folder` checked and found."""

    folder: Path
    checked: int  # finished videos re-checked
    not_done: int  # jobs of the manifest without a finished video (see `status`)
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_folder(folder: Path) -> Verification:
    """Re-check every finished video of the folder's lockfile against its record and request.

    Jobs that left the manifest are skipped: a job with the same id may since have
    written the same file. Files are hashed and probed on a few threads (both release
    the GIL), so a large data set is checked at disk speed.
    """
    lock = read_lock(folder)
    if lock is None:
        raise NotAnOutputFolderError(str(folder))
    current = [job for job in lock.get("jobs", {}).values() if job.get("in_manifest", True)]
    done = sorted((job for job in current if job.get("state") == "done"), key=_by_id)
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = pool.map(lambda job: _check(folder, job), done)
        findings = tuple(finding for batch in found for finding in batch)
    return Verification(folder, len(done), len(current) - len(done), findings)


def _by_id(job: Mapping[str, Any]) -> str:
    return str(job.get("id", ""))


def _check(folder: Path, job: Mapping[str, Any]) -> list[Finding]:
    job_id, relative = str(job.get("id", "")), str(job.get("path") or "")

    def finding(problem: str) -> list[Finding]:
        return [Finding(job_id, relative or "(no path)", problem)]

    if not relative:
        return finding("the lock records no file for this finished job")
    path = folder / relative
    try:
        size = path.stat().st_size
    except OSError:
        return finding(f"the file is missing; {REFETCH}")
    if size != job.get("bytes"):
        return finding(
            f"the file has {size} bytes, the lock says {job.get('bytes')} "
            f"(truncated or replaced); {REFETCH}"
        )
    if probe.sha256_file(path) != job.get("sha256"):
        return finding(f"the content differs from the lock's sha256 (corrupted); {REFETCH}")
    try:
        facts = probe.probe_video(path)
    except probe.MediaError as exc:
        return finding(f"not a readable video ({exc}); {REFETCH}")
    provider = job.get("provider") or "the provider"
    return [
        Finding(job_id, relative, f"{problem} (as delivered by {provider})")
        for problem in mismatches(job.get("request") or {}, facts)
    ]
