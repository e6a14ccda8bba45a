"""Checks on an expanded plan that the schema cannot express. Pure: Plan + environ -> problems.

Every check runs on every job and all problems come back together, each with the
file, line and job it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from hailuo_batch.core.capabilities import (
    CAPABILITIES_BY_PROVIDER,
    MAX_ASPECT,
    MAX_IMAGE_BYTES,
    MIN_ASPECT,
    MIN_IMAGE_SHORT_SIDE,
    MODEL_RULES,
    model_violations,
    provider_violations,
)
from hailuo_batch.core.jobs import ImageRef, Job
from hailuo_batch.core.keys import api_key
from hailuo_batch.errors import KeyFormatError, Problem, Severity
from hailuo_batch.manifest.plan import Plan

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,119}$")
_IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})


def check_plan(plan: Plan, environ: Mapping[str, str], *, keys: Severity | None) -> list[Problem]:
    """Every problem of the plan: its own, each job's, duplicates, and missing API keys.

    `keys` says how a missing API key counts: "error" for `run`, "warning" for
    `validate`/`plan` (so CI can validate without secrets), None to skip (`--simulate`).
    """
    problems = list(plan.problems)
    for job in plan.jobs:
        problems += [_at(job, message) for message in job_problems(job)]
    problems += _duplicates(plan.jobs)
    if keys is not None:
        problems += _missing_keys(plan, environ, keys)
    return problems


def job_problems(job: Job) -> Iterator[str]:
    """What is wrong with one job, as sentences."""
    request = job.request
    rules = MODEL_RULES[request.model]
    longest = rules.max_prompt
    needs_prompt = rules.prompt_required or (
        request.image is None and request.subject_reference is None
    )
    if len(request.prompt) > longest or (needs_prompt and not request.prompt):
        yield (
            f"prompt must be 1 to {longest} characters after templating (got {len(request.prompt)})"
        )
    if not _SAFE_ID.match(job.id):
        yield (
            f"id {job.id!r} cannot name a file: use letters, digits, '.', '_' and '-' "
            "(not first), at most 120 characters"
        )
    named = [("image", request.image), ("end_image", request.end_image)]
    named += [("subject_reference", request.subject_reference)]
    named += [("references", ref.media) for ref in request.references if ref.kind == "image"]
    for name, image in named:
        if image is not None:
            yield from (f"`{name}`: {m}" for m in image_problems(image))
    violations = model_violations(request)
    yield from violations
    if violations:
        return
    refusals = {p: provider_violations(CAPABILITIES_BY_PROVIDER[p], request) for p in job.providers}
    if all(refusals.values()):
        reasons = "; ".join(f"{p} {', '.join(r)}" for p, r in refusals.items())
        able = [
            name
            for name, caps in CAPABILITIES_BY_PROVIDER.items()
            if not provider_violations(caps, request)
        ]
        hint = f" (providers that can: {', '.join(able)})" if able else ""
        yield f"no provider in the list can make this video: {reasons}{hint}"


def image_problems(image: ImageRef) -> Iterator[str]:
    """The providers' shared image limits (URLs are not fetched, so not checked)."""
    if image.kind == "url":
        return
    if image.format not in _IMAGE_FORMATS:
        yield f"must be JPEG, PNG or WebP (got {image.format})"
    if image.size is not None and image.size >= MAX_IMAGE_BYTES:
        yield f"must be under 20 MB (got {image.size / 1e6:.1f} MB)"
    if image.width and image.height:
        short_side = min(image.width, image.height)
        if short_side < MIN_IMAGE_SHORT_SIDE:
            yield f"short side must be over 300 px (got {image.width}x{image.height})"
        aspect = image.width / image.height
        if not MIN_ASPECT <= aspect <= MAX_ASPECT:
            yield (f"aspect ratio must be between 2:5 and 5:2 (got {image.width}x{image.height})")


def _duplicates(jobs: tuple[Job, ...]) -> Iterator[Problem]:
    by_id: dict[str, Job] = {}
    by_key: dict[str, Job] = {}
    for job in jobs:
        first = by_id.setdefault(job.id, job)
        if first is not job:
            yield _at(job, f"id also used by the job at {_where(first)}; ids must be unique")
            continue
        same = by_key.setdefault(job.key, job)
        if same is not job:
            yield _at(
                job,
                f"asks for exactly the same video as job '{same.id}' at "
                f"{_where(same)}; use `samples: N` for more generations",
            )


def _missing_keys(plan: Plan, environ: Mapping[str, str], severity: Severity) -> Iterator[Problem]:
    for provider in plan.manifest.providers:
        variable = CAPABILITIES_BY_PROVIDER[provider].key_env_var
        try:
            key = api_key(environ, variable)
        except KeyFormatError as exc:
            yield Problem(plan.manifest.file, None, str(exc), severity=severity)
            continue
        if not key:
            yield Problem(
                plan.manifest.file,
                None,
                f"{variable} is not set: export {variable}=... for provider '{provider}' "
                "(or use `run --simulate` to try the manifest offline)",
                severity=severity,
            )


def _where(job: Job) -> str:
    return f"{job.source.file}:{job.source.line}" if job.source.line else job.source.file


def _at(job: Job, message: str) -> Problem:
    return Problem(job.source.file, job.source.line, message, job.id)
