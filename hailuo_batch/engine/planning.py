"""From a manifest to a checked `Plan`, and what running it into a folder would do.
Reads the manifest, its files and the output folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER
from hailuo_batch.core.jobs import Job, VideoRequest
from hailuo_batch.core.prices import Quote, price, quote
from hailuo_batch.errors import ManifestError, Problem, Severity
from hailuo_batch.manifest import images
from hailuo_batch.manifest.checks import check_plan
from hailuo_batch.manifest.document import load_manifest
from hailuo_batch.manifest.plan import Plan, build_plan
from hailuo_batch.manifest.rows import read_rows
from hailuo_batch.outputs.probe import damage
from hailuo_batch.store.fold import RunState, load_state

IN_FLIGHT = frozenset({"submitting", "unknown", "submitted", "queued", "running", "downloading"})
TYPICAL_GENERATION_SECONDS = {6: 270.0, 10: 510.0}
"""Queue plus generation per clip as AI/ML API documents it (~4-5 min at 6 s, ~8-9 at 10 s)."""


ManifestSource = Path | Mapping[str, Any]
"""A manifest: a YAML file's path, or the same document built as a Python dict."""


def load_plan(
    source: ManifestSource,
    environ: Mapping[str, str],
    *,
    keys: Severity | None,
    base: Path | None = None,
) -> tuple[Plan, list[Problem]]:
    """The checked plan and its warnings; ManifestError with every error if any.

    `base`: the folder a dict manifest's relative paths start from (default: here).
    """
    manifest = load_manifest(source, base=base)
    plan = build_plan(manifest, read_rows, images.image_ref)
    problems = check_plan(plan, environ, keys=keys)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ManifestError(problems)
    return plan, problems


def job_quote(plan: Plan, provider: str, request: VideoRequest) -> Quote | None:
    """The price of one video of `request` at `provider`, and where it comes from."""
    r = request
    return quote(provider, r.model, r.duration, r.resolution, plan.manifest.prices)


def job_price(plan: Plan, provider: str, request: VideoRequest) -> float | None:
    """USD for one video of `request` at `provider`, with the manifest's overrides."""
    return price(
        provider, request.model, request.duration, request.resolution, plan.manifest.prices
    )


@dataclass(frozen=True, slots=True)
class Standing:
    """Where each job of a plan stands in an output folder, as `run` would see it."""

    done: frozenset[str]  # a real, intact video
    in_flight: dict[str, str]  # key -> the provider holding its task
    simulated: frozenset[str]  # only the simulator made it: a real run makes it for real

    @classmethod
    def of(cls, plan: Plan, folder: Path | None, *, simulate: bool = False) -> Standing:
        state = load_state(folder) if folder is not None else RunState()
        done, in_flight, simulated = set(), {}, set()
        for job in plan.jobs:
            rec = state.jobs.get(job.key)
            if rec is None:
                continue
            if rec.simulated and not simulate:
                if rec.state != "pending":
                    simulated.add(job.key)
                continue
            if rec.state == "done" and folder is not None and damage(folder, rec) is None:
                done.add(job.key)
            elif rec.state in IN_FLIGHT and rec.provider:
                in_flight[job.key] = rec.provider
        return cls(frozenset(done), in_flight, frozenset(simulated))


@dataclass(frozen=True, slots=True)
class Estimate:
    """What running a plan into a folder would do: counts, spend and time."""

    jobs: int
    done: int
    in_flight: int  # held by a provider already: followed, not submitted again
    simulated: int  # only simulated so far: a real run makes them for real
    to_submit: int
    estimated_cost_usd: float | None  # None when no job to submit has a known price
    unpriced: tuple[str, ...]  # "provider model 6s-768P" combinations with no known price
    estimated_seconds: float


def estimate(
    plan: Plan,
    standing: Standing,
    price_of: Callable[[str, VideoRequest], float | None],
    concurrency: int,
) -> Estimate:
    """Count what is done and in flight, and what the rest would cost at each job's
    first provider."""
    todo = [j for j in plan.jobs if j.key not in standing.done and j.key not in standing.in_flight]
    total = 0.0
    priced = 0
    unpriced: set[str] = set()
    for job in todo:
        provider = job.providers[0]
        cost = price_of(provider, job.request)
        if cost is None:
            r = job.request
            unpriced.add(f"{provider} {r.model} {r.duration}s-{r.resolution}")
        else:
            total += cost
            priced += 1
    waiting = [j for j in plan.jobs if j.key not in standing.done]
    seconds = sum(TYPICAL_GENERATION_SECONDS.get(j.request.duration, 300.0) for j in waiting)
    return Estimate(
        jobs=len(plan.jobs),
        done=len(standing.done),
        in_flight=len(standing.in_flight),
        simulated=len(standing.simulated),
        to_submit=len(todo),
        estimated_cost_usd=round(total, 2) if priced or not todo else None,
        unpriced=tuple(sorted(unpriced)),
        estimated_seconds=seconds / max(concurrency, 1),
    )


@dataclass(frozen=True, slots=True)
class PlanView:
    """What `plan` shows: the checked plan, where its jobs stand, the estimate, warnings."""

    plan: Plan
    standing: Standing
    estimate: Estimate
    warnings: list[Problem]
    output: Path | None

    def price_text(self, job: Job) -> str:
        cost = job_price(self.plan, job.providers[0], job.request)
        return "?" if cost is None else f"{cost:.2f}"

    def price_sources(self) -> list[str]:
        """Where the plan's known prices come from: one line per provider and model."""
        found: dict[str, Quote] = {}
        for job in self.plan.jobs:
            provider = job.providers[0]
            priced = job_quote(self.plan, provider, job.request)
            if priced is not None:
                found.setdefault(f"{provider} {job.request.model}", priced)
        return [f"{name}: {str(q).split(' (', 1)[1].rstrip(')')}" for name, q in found.items()]

    def to_json(self) -> dict[str, object]:
        """`plan --json`: the counts, the estimate, and every job with its state."""
        est = self.estimate
        return {
            "manifest": str(self.plan.manifest.path),
            "output": str(self.output) if self.output else None,
            "total": est.jobs,
            "done": est.done,
            "in_flight": est.in_flight,
            "simulated": est.simulated,
            "to_submit": est.to_submit,
            "estimated_cost_usd": est.estimated_cost_usd,
            "unpriced": list(est.unpriced),
            "estimated_seconds": round(est.estimated_seconds),
            "providers": list(self.plan.manifest.providers),
            "jobs": [
                {
                    "id": job.id,
                    "key": job.key,
                    "model": job.request.model,
                    "provider": self.standing.in_flight.get(job.key, job.providers[0]),
                    "duration": job.request.duration,
                    "resolution": job.request.resolution,
                    "state": self.state_of(job),
                    "estimated_cost_usd": job_price(self.plan, job.providers[0], job.request),
                    "price_source": _source_of(job_quote(self.plan, job.providers[0], job.request)),
                }
                for job in self.plan.jobs
            ],
        }

    def state_of(self, job: Job) -> str:
        if job.key in self.standing.done:
            return "done"
        if job.key in self.standing.in_flight:
            return f"in flight at {self.standing.in_flight[job.key]}"
        if job.key in self.standing.simulated:
            return "simulated: to make for real"
        return "to submit"


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
    raise ManifestError([Problem(manifest.file, line, message)])


def _source_of(priced: Quote | None) -> str | None:
    if priced is None:
        return None
    return "manifest" if priced.source == "manifest" else f"published, seen {priced.seen}"


def plan_view(source: ManifestSource, out: Path | None, environ: Mapping[str, str]) -> PlanView:
    """Load and check a manifest, and estimate running it into `out` (or its `output:`)."""
    plan, warnings = load_plan(source, environ, keys="warning")
    output = output_folder(plan, out)
    standing = Standing.of(plan, output)
    manifest = plan.manifest
    working = manifest.providers if manifest.routing == "spread" else manifest.providers[:1]
    concurrency = sum(  # the slots that work at once: every provider's, when spread
        manifest.limits.get("concurrency", CAPABILITIES_BY_PROVIDER[name].default_concurrency)
        for name in working
    )
    est = estimate(plan, standing, lambda p, r: job_price(plan, p, r), concurrency)
    return PlanView(plan, standing, est, warnings, output)
