"""Verification: does each delivered video match its request, and its lock record? Reads files.

Two checks, one vocabulary of findings:

- `mismatches(request, facts)` (pure) compares what was asked with what a probe of the
  file found: duration within `DURATION_TOLERANCE` seconds (any of a model's durations,
  H3's 4 to 15 s included), the frame's short side equal to the resolution's where that
  is documented, a sound track where the model always makes one (H3), at least one
  frame. The engine runs it on every download and
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

from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER, MODEL_RULES
from hailuo_batch.outputs import probe
from hailuo_batch.store.fold import JobRecord
from hailuo_batch.store.folder import read_folder

DURATION_TOLERANCE = 0.5  # seconds; Hailuo's "6 s" clips are a few frames short of 6 s
# H3's 2K frame size is documented by no provider (UNVERIFIED): its short side is not checked.
SHORT_SIDE_BY_RESOLUTION: dict[str, int | None] = {
    "512P": 512,
    "720P": 720,
    "768P": 768,
    "1080P": 1080,
    "2K": None,
}
MODELS_WITH_SOUND = frozenset(model for model, rules in MODEL_RULES.items() if rules.audio)


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
    model = request.get("model")
    if model in MODELS_WITH_SOUND and not facts.get("audio"):
        found.append(f"the video has no sound track, but {model} always makes one")
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
    """Re-check every paid video of the folder against its lock record and request.

    The current manifest's finished videos are re-hashed, probed and compared with their
    request; paid videos of jobs that left the manifest (superseded) must still be there;
    a job whose task succeeded but whose video could not be fetched is a finding too: it
    was paid for. Files are hashed and probed on a few threads (both release the GIL),
    so a large data set is checked at disk speed.
    """
    lock = read_folder(folder)
    current = lock.current()
    done = [job for job in current if job.state == "done"]
    lost = [
        job
        for job in current
        if job.state == "failed" and job.error and job.error.stage == "download" and job.task_id
    ]
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = [
            *pool.map(lambda job: _check(folder, job), done),
            *pool.map(lambda job: _check_kept(folder, job), lock.superseded()),
        ]
    findings = [finding for batch in found for finding in batch]
    findings += [
        Finding(
            job.id,
            job.path or "(not fetched)",
            f"paid video was never fetched ({job.error.message if job.error else '?'}); "
            f"{refetch_hint(job.provider)}",
        )
        for job in lost
    ]
    return Verification(folder, len(done), len(current) - len(done), tuple(findings))


def refetch_hint(provider: str | None) -> str:
    """How to get a paid video back: run again where its provider can be asked."""
    caps = CAPABILITIES_BY_PROVIDER.get(provider or "")
    where = f" with {provider} in the manifest or {caps.key_env_var} set" if caps else ""
    return f"run the manifest again{where}: it fetches the video again without paying twice"


def _check(folder: Path, job: JobRecord) -> list[Finding]:
    relative = job.path or "(no path)"
    problem = probe.damage(folder, job, "full")
    if problem is not None:
        return [Finding(job.id, relative, f"{problem}; {refetch_hint(job.provider)}")]
    facts = probe.probe_video(folder / relative)
    provider = job.provider or "the provider"
    return [
        Finding(job.id, relative, f"{mismatch} (as delivered by {provider})")
        for mismatch in mismatches(job.request, facts)
    ]


def _check_kept(folder: Path, job: JobRecord) -> list[Finding]:
    """A superseded paid video: it must still be there, intact."""
    problem = probe.damage(folder, job, "quick")
    if problem is None:
        return []
    return [Finding(job.id, job.path or "(no path)", f"superseded paid video: {problem}")]
