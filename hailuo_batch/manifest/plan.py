"""A manifest expanded into jobs: defaults, `matrix:`, `from:` files, `{vars}`, samples, keys.

Pure logic: the two readers it needs (rows of a CSV/JSONL file, facts of an image) are
passed in, so the CLI wires real files and tests can wire anything.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hailuo_batch.core.capabilities import MODEL_RULES
from hailuo_batch.core.jobs import ImageRef, Job, Model, Source, VideoRequest, job_key
from hailuo_batch.errors import Problem
from hailuo_batch.manifest.document import Manifest, expanded_job_check, job_schema_problems
from hailuo_batch.manifest.rows import Rows

JOB_FIELDS = (
    "id",
    "prompt",
    "image",
    "end_image",
    "duration",
    "resolution",
    "prompt_optimizer",
    "fast_pretreatment",
    "samples",
)

RowReader = Callable[[Path], Rows]
"""Reads a CSV/JSONL file's rows; ValueError saying why if it is unreadable or has none."""
ImageReader = Callable[[str, Path], ImageRef]
"""Resolves `image:` text against a folder; raises ValueError saying why it is unusable."""

_TEXT_FIELDS = frozenset({"id", "prompt", "image", "end_image"})  # templates, not variables
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Plan:
    """The jobs a manifest asks for, in manifest order, and the problems found making them."""

    manifest: Manifest
    jobs: tuple[Job, ...]
    problems: tuple[Problem, ...]


def render(template: str, variables: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Fill `{name}` placeholders; `{{`/`}}` are literal braces. Returns (text, unknown names)."""
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        token = match[0]
        if token in ("{{", "}}"):
            return token[0]
        name = match[1].strip()
        if name in variables:
            value = variables[name]
            return str(value).lower() if isinstance(value, bool) else str(value)
        missing.append(name)
        return token

    if "{" not in template and "}" not in template:
        return template, missing
    return _PLACEHOLDER.sub(substitute, template), missing


def build_plan(manifest: Manifest, read_rows: RowReader, read_image: ImageReader) -> Plan:
    """Expand every job entry; problems (with file and line) are collected, not raised."""
    builder = _Builder(manifest, read_image)
    file = str(manifest.path)
    validator = expanded_job_check()
    for index, entry in enumerate(manifest.jobs):
        line = entry.line
        label = str(entry["id"]) if "id" in entry else f"#{index + 1}"
        shared = {k: v for k, v in entry.items() if k not in ("matrix", "from")}
        if "matrix" in entry:
            names = list(entry["matrix"])
            for combo in itertools.product(*(entry["matrix"][n] for n in names)):
                fields, meta = _split({**shared, **dict(zip(names, combo, strict=False))})
                problems = job_schema_problems(validator, fields, file, label, line)
                builder.add(fields, meta, Source(file, line), label, problems)
        elif "from" in entry:
            path = manifest.path.parent / entry["from"]
            try:
                table = read_rows(path)
            except ValueError as exc:
                builder.problems.append(Problem(file, line, str(exc), label))
                continue
            builder.problems += [Problem(str(path), n, m, label) for n, m in table.problems]
            for row_line, row in table.rows:
                fields, meta = _split({**shared, **row})
                row_label = str(fields.get("id", f"{path.name}:{row_line}"))
                problems = job_schema_problems(validator, fields, str(path), row_label, row_line)
                builder.add(
                    fields,
                    meta,
                    Source(str(path), row_line),
                    row_label,
                    problems,
                    image_base=path.parent,
                )
        else:
            builder.add(dict(shared), {}, Source(file, line), label, [])
    return Plan(manifest, tuple(builder.jobs), (*manifest.problems, *builder.problems))


def _split(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Job fields apart from the rest (matrix keys, extra columns): labels and variables."""
    job = {k: v for k, v in fields.items() if k in JOB_FIELDS}
    meta = {k: v for k, v in fields.items() if k not in JOB_FIELDS}
    return job, meta


class _Builder:
    """Turns checked field dicts into `Job`s, collecting problems."""

    def __init__(self, manifest: Manifest, read_image: ImageReader) -> None:
        self.manifest = manifest
        self.read_image = read_image
        self.jobs: list[Job] = []
        self.problems: list[Problem] = []
        self.model: Model = manifest.model  # type: ignore[assignment]
        self.rules = MODEL_RULES[self.model]

    def add(
        self,
        fields: dict[str, Any],
        meta: Mapping[str, Any],
        source: Source,
        label: str,
        problems: list[Problem],
        image_base: Path | None = None,
    ) -> None:
        if problems:
            self.problems += problems
            return
        merged = {**self.manifest.defaults, **fields}
        variables = {
            **self.manifest.vars,
            **{k: v for k, v in merged.items() if k not in _TEXT_FIELDS},
            **meta,
        }
        found: list[str] = []
        prompt = self._render(merged.get("prompt", ""), variables, "prompt", found)
        given_id = self._render(merged["id"], variables, "id", found) if "id" in merged else None
        label = given_id or label
        images: dict[str, ImageRef | None] = {"image": None, "end_image": None}
        for name in images:
            if name in merged:
                text = self._render(merged[name], variables, name, found)
                try:
                    images[name] = self.read_image(text, image_base or self.manifest.path.parent)
                except ValueError as exc:
                    found.append(f"`{name}`: {exc}")
        if found:
            self.problems += [Problem(source.file, source.line, m, label) for m in found]
            return
        request = VideoRequest(
            model=self.model,
            prompt=prompt,
            duration=merged.get("duration", self.rules.default_duration),
            resolution=merged.get("resolution", self.rules.default_resolution),
            prompt_optimizer=merged.get("prompt_optimizer", True),
            fast_pretreatment=merged.get("fast_pretreatment", False),
            image=images["image"],
            end_image=images["end_image"],
        )
        for sample in range(merged.get("samples", 1)):
            key = job_key(request, sample)
            job_id = _job_id(given_id, prompt, key, sample)
            self.jobs.append(
                Job(job_id, key, request, sample, self.manifest.providers, source, meta=meta)
            )

    @staticmethod
    def _render(template: Any, variables: Mapping[str, Any], name: str, found: list[str]) -> str:
        text, missing = render(str(template), variables)
        for var in missing:
            known = ", ".join(sorted(variables)) or "none"
            found.append(
                f"`{name}` uses {{{var}}}, which is not defined (known: {known}); "
                "write {{ and }} for literal braces"
            )
        return text


def _job_id(given: str | None, prompt: str, key: str, sample: int) -> str:
    """The given id (`id.2`, `id.3` for further samples), else a prompt slug + short key."""
    if given is not None:
        return given if sample == 0 else f"{given}.{sample + 1}"
    slug = _SLUG.sub("-", prompt.lower()).strip("-")[:40].rstrip("-") or "job"
    return f"{slug}-{key[:8]}"


@dataclass(frozen=True, slots=True)
class Estimate:
    """What running a plan into a folder would do: counts, spend and time."""

    jobs: int
    done: int
    to_submit: int
    estimated_cost_usd: float | None  # None when no job has a known price
    unpriced: tuple[str, ...]  # "provider model 6s-768P" combinations with no known price
    estimated_seconds: float


TYPICAL_GENERATION_SECONDS = {6: 270.0, 10: 510.0}
"""Queue plus generation per clip as AI/ML API documents it (~4-5 min at 6 s, ~8-9 at 10 s)."""


def estimate(
    plan: Plan,
    done: frozenset[str],
    price_of: Callable[[str, VideoRequest], float | None],
    concurrency: int,
) -> Estimate:
    """Count what is done already and what the rest would cost on each job's first provider."""
    todo = [job for job in plan.jobs if job.key not in done]
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
    seconds = sum(TYPICAL_GENERATION_SECONDS.get(j.request.duration, 300.0) for j in todo)
    return Estimate(
        jobs=len(plan.jobs),
        done=len(plan.jobs) - len(todo),
        to_submit=len(todo),
        estimated_cost_usd=round(total, 2) if priced or not todo else None,
        unpriced=tuple(sorted(unpriced)),
        estimated_seconds=seconds / max(concurrency, 1),
    )
