"""The manifest file: YAML with line numbers in, a schema-checked `Manifest` out. Reads files.

The YAML is read by `yamlfile` (lines kept), so every problem is reported as
`FILE:LINE: ...`, all of them together (`ManifestError.problems`), never the first only.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from hailuo_batch.core import schemas
from hailuo_batch.core.capabilities import PROVIDER_NAMES
from hailuo_batch.errors import ManifestError, Problem, short
from hailuo_batch.manifest.yamlfile import LineDict, from_data, parse_yaml

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError


@dataclass(frozen=True, slots=True)
class Manifest:
    """A loaded, schema-valid manifest: top-level settings plus the raw job entries."""

    path: Path
    sha256: str
    name: str
    providers: tuple[str, ...]
    model: str
    routing: str  # "failover": the list is an order; "spread": all at once
    output: Path | None
    defaults: Mapping[str, Any]
    limits: Mapping[str, Any]
    vars: Mapping[str, Any]
    prices: Mapping[str, Mapping[str, float]]
    jobs: list[LineDict]  # the entries that passed the schema
    problems: list[Problem] = field(default_factory=list)  # the rest's, and the top level's
    lines: Mapping[str, int] = field(default_factory=dict)  # of each top-level key
    file: str = ""  # how problems name it: the path, or "<dict>" for one built in Python


EXPANSION_NEEDS = frozenset({"version", "provider", "model", "defaults", "vars", "jobs"})
"""Top-level keys the jobs cannot be expanded without: only a mistake there stops early."""


DICT_ORIGIN = "<dict>"
"""How problems of a manifest given as a Python dict name their file."""


def load_manifest(source: Path | Mapping[str, Any], *, base: Path | None = None) -> Manifest:
    """Read, parse and schema-check a manifest file, or check one built as a Python dict;
    ManifestError lists every problem.

    A dict's relative paths (`output:`, `from:`, images) are relative to `base` (the
    current folder by default), as a file's are to the file's folder.

    A mistake in a top-level key that expansion does not need (`limitz:`, a bad
    `limits:` or `output:`) is recorded in `problems` and loading carries on, so the
    mistakes in the jobs are reported in the same pass; the key is then left unset.
    """
    if isinstance(source, Mapping):
        data, problems = from_data(source, DICT_ORIGIN)
        digest = hashlib.sha256(orjson.dumps(source, option=orjson.OPT_SORT_KEYS, default=str))
        path = (base or Path.cwd()) / DICT_ORIGIN
        return _checked(data, problems, path, DICT_ORIGIN, digest.hexdigest())
    path = source
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = Problem(file, None, f"cannot read manifest: {exc.strerror}")
        raise ManifestError([problem]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError([Problem(file, None, f"not UTF-8 text (byte {exc.start})")]) from None
    data, problems = parse_yaml(text, file)
    return _checked(data, problems, path, file, hashlib.sha256(raw).hexdigest())


def _checked(data: Any, problems: list[Problem], path: Path, file: str, sha256: str) -> Manifest:
    """The schema-checked `Manifest` of parsed data (problems so far beside it)."""
    if not isinstance(data, LineDict):
        got = "an empty file" if data is None else short(data)
        message = f"a manifest is a mapping with version, provider and jobs (got {got})"
        raise ManifestError([*problems, Problem(file, 1, message)])
    top, entry, _ = _checks()
    errors = [] if top.is_valid(data) else list(top.errors(data))
    problems += [_problem(e, data, file, None) for e in errors]
    if any(_blocks_expansion(e) for e in errors):
        raise ManifestError(problems)
    jobs: list[LineDict] = []
    for index, job in enumerate(data["jobs"]):
        if not isinstance(job, LineDict):
            continue  # the top-level check has said so
        job_problems = job_schema_problems(entry, job, file, _job_label(job, index))
        problems += job_problems
        if not job_problems:
            jobs.append(job)
    unset = {str(e.absolute_path[0]) for e in errors if e.absolute_path}
    settings = {k: v for k, v in data.items() if k not in unset}
    provider = data["provider"]
    output = settings.get("output")
    return Manifest(
        path=path,
        sha256=sha256,
        name=settings.get("name") or (path.stem if file != DICT_ORIGIN else "manifest"),
        providers=tuple(provider) if isinstance(provider, list) else (provider,),
        model=data.get("model", "hailuo-02"),
        routing=settings.get("routing", "failover"),
        output=(path.parent / output) if output else None,
        defaults=data.get("defaults", {}),
        limits=settings.get("limits", {}),
        vars=data.get("vars", {}),
        prices=settings.get("prices", {}),
        jobs=jobs,
        problems=problems,
        lines=data.key_lines,
        file=file,
    )


def _blocks_expansion(error: ValidationError) -> bool:
    """Whether a top-level schema error leaves the jobs impossible to expand."""
    path = list(error.absolute_path)
    if not path:  # a required key missing blocks; an unknown key does not
        return error.validator != "additionalProperties"
    if path[0] == "jobs" and len(path) > 1:
        return False  # one entry is not a mapping: the others still expand
    return path[0] in EXPANSION_NEEDS


class SchemaCheck:
    """One schema, checked two ways: a compiled yes/no (fastjsonschema, ~10x faster than
    jsonschema and cheap to import) for every instance, and jsonschema, the reference,
    imported only to explain an instance the fast check rejects."""

    def __init__(self, schema: dict[str, Any]) -> None:
        import fastjsonschema

        self.schema = schema
        self._fast = fastjsonschema.compile(
            {"$schema": "http://json-schema.org/draft-07/schema#", **schema}
        )
        self._rejected = fastjsonschema.JsonSchemaException
        self._reference: Draft202012Validator | None = None

    def is_valid(self, instance: Any) -> bool:
        try:
            self._fast(instance)
        except self._rejected:
            return False
        return True

    def errors(self, instance: Any) -> Iterator[ValidationError]:
        if self._reference is None:
            from jsonschema import Draft202012Validator

            self._reference = Draft202012Validator(self.schema)
        return self._reference.iter_errors(instance)


@cache
def _checks() -> tuple[SchemaCheck, SchemaCheck, SchemaCheck]:
    """Top level (jobs unchecked), one job entry, and one expanded job (after matrix/from).

    `$ref`s are inlined: reference lookup was 60 % of validating 100k jobs.
    """
    schema = schemas.load("manifest.schema.json")
    top = _inline_refs({k: v for k, v in schema.items() if k != "$defs"}, schema)
    top["properties"]["jobs"]["items"] = {"type": "object"}
    entry = _inline_refs(schema["$defs"]["job"], schema)
    expanded = copy.deepcopy(entry)
    for key in ("matrix", "from"):
        del expanded["properties"][key]
    return SchemaCheck(top), SchemaCheck(entry), SchemaCheck(expanded)


def _inline_refs(node: Any, root: Mapping[str, Any]) -> Any:
    """A copy of `node` with every local `{"$ref": "#/$defs/..."}` replaced by its target."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _inline_refs({**target, **rest}, root)
        return {k: _inline_refs(v, root) for k, v in node.items() if k != "$schema"}
    if isinstance(node, list):
        return [_inline_refs(v, root) for v in node]
    return node


def job_schema_problems(
    check: SchemaCheck, job: Any, file: str, label: str | None, line: int | None = None
) -> list[Problem]:
    """Schema problems of one job entry (most are valid: the fast check answers those)."""
    if check.is_valid(job):
        return []
    return [_problem(e, job, file, label, line) for e in check.errors(job)]


def expanded_job_check() -> SchemaCheck:
    """Checks one job after matrix or file expansion (no `matrix:`/`from:` left)."""
    return _checks()[2]


def _job_label(job: Any, index: int) -> str:
    if isinstance(job, dict) and isinstance(job.get("id"), str) and "{" not in job["id"]:
        return str(job["id"])
    return f"#{index + 1}"


def _problem(
    error: ValidationError, root: Any, file: str, job: str | None, line: int | None = None
) -> Problem:
    if error.validator in ("oneOf", "anyOf") and error.context:
        # the deepest failure says most: 'fal' in [novita, fal], not "the list is wrong"
        from jsonschema.exceptions import best_match

        deepest = max(len(e.absolute_path) for e in error.context)
        error = best_match(e for e in error.context if len(e.absolute_path) == deepest)
    path = list(error.absolute_path)
    field_name = next((str(p) for p in reversed(path) if isinstance(p, str)), None)
    message = _message(error, field_name)
    line = _line_of(root, path) or line
    if error.validator == "additionalProperties" and isinstance(error.instance, LineDict):
        extra = _extra_keys(error)
        if extra:
            line = error.instance.key_lines.get(extra[0], line)
    return Problem(file, line, message, job)


def _line_of(root: Any, path: list[Any]) -> int | None:
    """The line of the deepest element of `path` that we know a line for."""
    line = getattr(root, "line", None)
    node = root
    for step in path:
        if isinstance(node, LineDict):
            line = node.key_lines.get(step, line)
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        line = getattr(node, "line", line)
    return line


def _schema_of(error: ValidationError) -> dict[str, Any]:
    return error.schema if isinstance(error.schema, dict) else {}


def _extra_keys(error: ValidationError) -> list[str]:
    allowed = _schema_of(error).get("properties", {})
    instance: Any = error.instance
    return [k for k in instance if k not in allowed]


_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


def _message(error: ValidationError, field_name: str | None) -> str:
    """A sentence saying what is wrong and what is allowed, for one schema error."""
    name = f"`{field_name}`" if field_name else "the manifest"
    value: Any = error.instance
    rule: Any = error.validator_value
    schema = _schema_of(error)
    match error.validator:
        case "additionalProperties":
            fields = sorted(schema.get("properties", {}))
            extra = _extra_keys(error)
            hint = difflib.get_close_matches(str(extra[0]), fields, n=1) if extra else []
            did_you_mean = f"did you mean '{hint[0]}'? " if hint else ""
            listed = ", ".join(f"'{e}'" for e in extra)
            return f"unknown field {listed} ({did_you_mean}allowed: {', '.join(fields)})"
        case "required":
            missing = [r for r in rule if r not in value]
            return f"missing required field {', '.join(repr(m) for m in missing)}"
        case "enum":
            if field_name == "provider" or (schema.get("enum") == list(PROVIDER_NAMES)):
                return f"unknown provider {short(value)} (known: {', '.join(PROVIDER_NAMES)})"
            allowed = ", ".join(str(v) for v in rule)
            return f"{name} must be one of {allowed} (got {short(value)})"
        case "const":
            return f"{name} must be {rule!r} (got {short(value)})"
        case "type":
            wanted = " or ".join(
                _TYPE_NAMES.get(t, t) for t in ([rule] if isinstance(rule, str) else rule)
            )
            return f"{name} must be {wanted} (got {short(value)})"
        case "not" if field_name is None:
            return "a job takes either `matrix:` or `from:`, not both"
        case "minimum" | "maximum":
            word = "at least" if error.validator == "minimum" else "at most"
            return f"{name} must be {word} {rule} (got {short(value)})"
        case "minLength":
            return f"{name} must not be empty" if rule == 1 else f"{name} is too short"
        case "maxLength":
            return f"{name} is too long ({len(value)} characters, at most {rule})"
        case "minItems" | "minProperties":
            return f"{name} must not be empty"
        case "uniqueItems":
            return f"{name} lists the same value twice"
        case "pattern":
            expected = schema.get("description") or f"the form {rule}"
            return f"{name} {short(value)} is not of the expected form: {expected}"
        case "propertyNames":
            return f"{name}: {error.message[:120]}"
        case _:
            return f"{name}: {error.validator} {short(rule)} not met (got {short(value)})"
