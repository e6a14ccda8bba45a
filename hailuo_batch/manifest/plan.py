"""A manifest expanded into jobs: defaults, `matrix:`, `from:` files, `{vars}`, samples, keys.

Pure logic: the two readers it needs (rows of a CSV/JSONL file, facts of an image) are
passed in, so the CLI wires real files and tests can wire anything.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hailuo_batch.core.capabilities import MODEL_RULES
from hailuo_batch.core.jobs import ImageRef, Job, Model, Reference, Source, VideoRequest, job_key
from hailuo_batch.errors import Problem
from hailuo_batch.manifest.document import Manifest, expanded_job_check, job_schema_problems
from hailuo_batch.manifest.fieldnames import JOB_FIELDS, meant_field, misnamed
from hailuo_batch.manifest.rows import Rows
from hailuo_batch.manifest.yamlfile import LineDict

RowReader = Callable[[Path], Rows]
"""Reads a CSV/JSONL file's rows; ValueError saying why if it is unreadable or has none."""
ImageReader = Callable[[str, Path], ImageRef]
"""Resolves `image:` text against a folder; raises ValueError saying why it is unusable."""

# templates, not variables
_TEXT_FIELDS = frozenset({"id", "prompt", "image", "end_image", "subject_reference", "references"})
_IMAGE_FIELDS = ("image", "end_image", "subject_reference")
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
    for index, entry in enumerate(manifest.jobs):
        label = str(entry["id"]) if "id" in entry else f"#{index + 1}"
        shared = {k: v for k, v in entry.items() if k not in ("matrix", "from")}
        if "matrix" in entry:
            builder.add_matrix(entry, shared, label)
        elif "from" in entry:
            builder.add_rows(entry, shared, label, read_rows)
        else:
            builder.add(shared, {}, builder.source(entry.line), label, [])
    return Plan(manifest, tuple(builder.jobs), (*manifest.problems, *builder.problems))


def _templates(fields: Mapping[str, Any]) -> Iterator[Any]:
    """The values of `fields` that are templates (id, prompt, image, end_image)."""
    return (fields[name] for name in _TEXT_FIELDS if name in fields)


def _placeholders(templates: Iterable[Any]) -> set[str]:
    """Every `{name}` the templates use."""
    return {
        match[1].strip()
        for template in templates
        if isinstance(template, str) and "{" in template
        for match in _PLACEHOLDER.finditer(template)
        if match[1] is not None
    }


def _split(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Job fields apart from the rest (matrix keys, extra columns): labels and variables."""
    job = {k: v for k, v in fields.items() if k in JOB_FIELDS}
    meta = {k: v for k, v in fields.items() if k not in JOB_FIELDS}
    return job, meta


class _Builder:
    """Turns job entries into `Job`s, collecting problems.

    A matrix key, CSV column or JSONL key that looks like a misspelt job field is
    reported once, where it is named, and the combinations or rows carrying it are not
    expanded: their own problems would only echo the typo.
    """

    def __init__(self, manifest: Manifest, read_image: ImageReader) -> None:
        self.manifest = manifest
        self.file = manifest.file
        self.folder = manifest.path.parent  # what recorded paths are relative to
        self.read_image = read_image
        self.validator = expanded_job_check()
        self.jobs: list[Job] = []
        self.problems: list[Problem] = []

    def add_matrix(self, entry: LineDict, shared: dict[str, Any], label: str) -> None:
        """One job per combination of the values of the entry's `matrix:`."""
        matrix: LineDict = entry["matrix"]
        cells = (value for name in _TEXT_FIELDS for value in matrix.get(name, ()))
        typos = self._misnamed(matrix, shared, cells)
        self.problems += [
            Problem(self.file, line, misnamed("matrix key", name, field), label)
            for name, field in typos.items()
            for line in [matrix.key_lines.get(name, entry.line)]
        ]
        if typos:
            return
        names = list(matrix)
        source = self.source(entry.line)
        for combo in itertools.product(*(matrix[name] for name in names)):
            fields, meta = _split({**shared, **dict(zip(names, combo, strict=True))})
            problems = job_schema_problems(self.validator, fields, self.file, label, entry.line)
            self.add(fields, meta, source, label, problems)

    def add_rows(
        self, entry: LineDict, shared: dict[str, Any], label: str, read_rows: RowReader
    ) -> None:
        """One job per row of the entry's `from:` file."""
        path = self.manifest.path.parent / entry["from"]
        try:
            table = read_rows(path)
        except ValueError as exc:
            self.problems.append(Problem(self.file, entry.line, str(exc), label))
            return
        file, folder, relative = str(path), path.parent, _relative(path, self.folder)
        self.problems += [Problem(file, line, message, label) for line, message in table.problems]
        cells = (value for _, row in table.rows for value in _templates(row))
        typos = self._misnamed(table.names, shared, cells)
        self.problems += [
            Problem(file, table.names[name], misnamed(table.name_kind, name, field), label)
            for name, field in typos.items()
        ]
        for line, row in table.rows:
            if typos and not typos.keys().isdisjoint(row):
                continue
            fields, meta = _split({**shared, **row})
            row_label = str(fields.get("id", f"{path.name}:{line}"))
            problems = job_schema_problems(self.validator, fields, file, row_label, line)
            self.add(fields, meta, Source(file, line, relative), row_label, problems, folder)

    def source(self, line: int | None) -> Source:
        """A line of the manifest itself."""
        return Source(self.file, line, self.manifest.path.name)

    def _misnamed(
        self, names: Iterable[str], shared: Mapping[str, Any], cells: Iterable[Any]
    ) -> dict[str, str]:
        """Names (-> the field meant) that look like a misspelt job field and that fill no
        placeholder of the templates that apply: the entry's, `defaults:`'s, `cells`.

        `cells` is read only when a name looks misspelt: scanning every row of a large
        file for placeholders would cost more than the rare typo it excuses.
        """
        suspects = {name: field for name in names if (field := meant_field(name))}
        if not suspects:
            return suspects
        used = _placeholders(
            itertools.chain(_templates(shared), _templates(self.manifest.defaults), cells)
        )
        return {name: field for name, field in suspects.items() if name not in used}

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
        base = image_base or self.folder
        images: dict[str, ImageRef | None] = {name: None for name in _IMAGE_FIELDS}
        for name in images:
            if name in merged:
                text = self._render(merged[name], variables, name, found)
                images[name] = self._image(text, base, name, found)
        references = tuple(
            self._reference(kind, self._render(value, variables, "references", found), base, found)
            for item in merged.get("references", ())
            for kind, value in item.items()
        )
        if found:
            self.problems += [Problem(source.file, source.line, m, label) for m in found]
            return
        model: Model = merged.get("model", self.manifest.model)
        rules = MODEL_RULES[model]
        request = VideoRequest(
            model=model,
            prompt=prompt,
            duration=merged.get("duration", rules.default_duration),
            resolution=merged.get("resolution", rules.default_resolution),
            prompt_optimizer=merged.get("prompt_optimizer", True),
            fast_pretreatment=merged.get("fast_pretreatment", False),
            image=images["image"],
            end_image=images["end_image"],
            subject_reference=images["subject_reference"],
            references=references,
            ratio=merged.get("ratio"),
            audio=merged.get("audio"),
        )
        for sample in range(merged.get("samples", 1)):
            key = job_key(request, sample)
            job_id = _job_id(given_id, prompt, key, sample)
            self.jobs.append(
                Job(job_id, key, request, sample, self.manifest.providers, source, meta=meta)
            )

    def _image(self, text: str, base: Path, name: str, found: list[str]) -> ImageRef | None:
        """An image read from `base`; a local file is recorded from the manifest's folder."""
        try:
            image = self.read_image(text, base)
        except ValueError as exc:
            found.append(f"`{name}`: {exc}")
            return None
        if image.kind == "path":
            image = dataclasses.replace(image, relative=_relative(image.source, self.folder))
        return image

    def _reference(self, kind: str, text: str, base: Path, found: list[str]) -> Reference:
        """An h3 reference: an image read like a frame; a video or audio clip by URL."""
        if kind == "image":
            image = self._image(text, base, "references", found)
            return Reference("image", image or ImageRef(text, "url"))
        return Reference("video" if kind == "video" else "audio", ImageRef(text, "url"))

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


def _relative(path: str | Path, folder: Path) -> str:
    """How outputs name a local file: from the manifest's folder, with `/`, never absolute."""
    return Path(os.path.relpath(path, folder)).as_posix()


def _job_id(given: str | None, prompt: str, key: str, sample: int) -> str:
    """The given id (`id.2`, `id.3` for further samples), else a prompt slug + short key."""
    if given is not None:
        return given if sample == 0 else f"{given}.{sample + 1}"
    slug = _SLUG.sub("-", prompt.lower()).strip("-")[:40].rstrip("-") or "job"
    return f"{slug}-{key[:8]}"
