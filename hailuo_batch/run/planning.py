"""From a manifest path to a checked `Plan`: the front half every command shares. Reads files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER
from hailuo_batch.core.jobs import Job, VideoRequest
from hailuo_batch.core.prices import price
from hailuo_batch.errors import ManifestError, Problem, Severity
from hailuo_batch.manifest import images
from hailuo_batch.manifest.checks import check_plan
from hailuo_batch.manifest.document import load_manifest
from hailuo_batch.manifest.plan import Estimate, Plan, build_plan, estimate
from hailuo_batch.manifest.rows import read_rows
from hailuo_batch.store.status import done_keys


def load_plan(
    path: Path, environ: Mapping[str, str], *, keys: Severity | None
) -> tuple[Plan, list[Problem]]:
    """The checked plan and its warnings; ManifestError with every error if any."""
    manifest = load_manifest(path)
    plan = build_plan(manifest, read_rows, images.image_ref)
    problems = check_plan(plan, environ, keys=keys)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ManifestError(problems)
    return plan, problems


@dataclass(frozen=True, slots=True)
class PlanView:
    """What `plan` shows: the checked plan, its estimate against the output folder, warnings."""

    plan: Plan
    estimate: Estimate
    warnings: list[Problem]
    output: Path | None

    def price_text(self, job: Job) -> str:
        cost = job_price(self.plan, job.providers[0], job.request)
        return "?" if cost is None else f"{cost:.2f}"


def job_price(plan: Plan, provider: str, request: VideoRequest) -> float | None:
    """USD for one video of `request` at `provider`, with the manifest's overrides."""
    return price(
        provider, request.model, request.duration, request.resolution, plan.manifest.prices
    )


def output_folder(plan: Plan, out: Path | None) -> Path | None:
    """The folder a run writes to: `out` (--out), else the manifest's `output:`, if any.

    ManifestError when it cannot be a folder because a file stands in its way: checked
    before anything reads or writes there, so the user gets one line, not a traceback.
    """
    folder = out or plan.manifest.output
    if folder is None:
        return None
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or existing.is_dir():
        return folder
    manifest = plan.manifest
    named = f"--out {folder}" if out else f"`output` {folder}"
    line = None if out else manifest.lines.get("output")
    message = f"{named} cannot be a folder: {existing} is a file; name a folder instead"
    raise ManifestError([Problem(str(manifest.path), line, message)])


def plan_view(path: Path, out: Path | None, environ: Mapping[str, str]) -> PlanView:
    """Load and check a manifest, and estimate running it into `out` (or its `output:`)."""
    plan, warnings = load_plan(path, environ, keys="warning")
    output = output_folder(plan, out)
    done = done_keys(output) if output else frozenset()
    concurrency = plan.manifest.limits.get(
        "concurrency", CAPABILITIES_BY_PROVIDER[plan.manifest.providers[0]].default_concurrency
    )
    est = estimate(plan, done, lambda p, r: job_price(plan, p, r), concurrency)
    return PlanView(plan, est, warnings, output)
