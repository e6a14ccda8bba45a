"""The manifest file: YAML with line numbers in, a schema-checked `Manifest` out. Reads files.

Loading is safe (no object-constructing tags), refuses alias bombs, and remembers the line
of every mapping, key and list so that each problem is reported as `FILE:LINE: ...`.
Every problem found is reported together (`ManifestError.problems`), never the first only.
"""

from __future__ import annotations

import copy
import csv
import difflib
import gc
import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import yaml

from hailuo_batch import schemas
from hailuo_batch.capabilities import CAPABILITIES_BY_PROVIDER, PROVIDER_NAMES
from hailuo_batch.errors import ManifestError, Problem

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

    _BaseLoader = yaml.SafeLoader
else:  # libyaml parses ~4x faster; the pure-Python loader is the same grammar
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_ALIAS_EXPANSION = 10
"""A document may expand through aliases to at most this many times its own size."""

_SECRET_KEY = re.compile(r"^(api[_-]?key|apikey|token|secret|authorization|password)$", re.I)


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    __slots__ = ("key_lines", "line")

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.key_lines: dict[Any, int] = {}


class LineList(list[Any]):
    """A YAML sequence that remembers its line (1-based)."""

    __slots__ = ("line",)

    def __init__(self) -> None:
        super().__init__()
        self.line = 0


class _Loader(_BaseLoader):
    """Safe loader building `LineDict`/`LineList` and noting duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []
        self.secrets: list[tuple[int, str]] = []


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.line = node.start_mark.line + 1
    yield data
    key_lines = data.key_lines
    merged = False
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            merged = True
            continue
        # plain text is by far the commonest node: take it without the constructor's detour
        if key_node.tag == _STR:
            key = key_node.value
        else:
            key = loader.construct_object(key_node, deep=False)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                )
        if key in key_lines:
            loader.duplicates.append((key_node.start_mark.line + 1, str(key)))
        if isinstance(key, str) and _SECRET_KEY.match(key):
            loader.secrets.append((key_node.start_mark.line + 1, key))
        key_lines[key] = key_node.start_mark.line + 1
        if value_node.tag == _STR and isinstance(value_node, yaml.ScalarNode):
            data[key] = value_node.value
        else:
            data[key] = loader.construct_object(value_node, deep=False)
    if merged:  # `<<: *anchor` merge keys, as PyYAML does; explicit keys win
        loader.flatten_mapping(node)
        explicit = dict(data)
        data.clear()
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=False)
            data[key] = loader.construct_object(value_node, deep=False)
            key_lines.setdefault(key, key_node.start_mark.line + 1)
        data.update(explicit)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_object(child, deep=False) for child in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


@dataclass(frozen=True, slots=True)
class Manifest:
    """A loaded, schema-valid manifest: top-level settings plus the raw job entries."""

    path: Path
    sha256: str
    name: str
    providers: tuple[str, ...]
    model: str
    output: Path | None
    defaults: Mapping[str, Any]
    limits: Mapping[str, Any]
    vars: Mapping[str, Any]
    prices: Mapping[str, Mapping[str, float]]
    jobs: list[LineDict]  # the entries that passed the schema
    problems: list[Problem] = field(default_factory=list)  # of the entries that did not


def load_yaml(text: str, file: str) -> Any:
    """Parse YAML safely, keeping lines; raise ManifestError for syntax, tags, duplicates."""
    loader = _Loader(text)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the loader makes millions of small objects and no cycles: 4x faster
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = exc.problem or "invalid YAML"
        if "could not determine a constructor" in reason:
            reason = "YAML tags that build objects are not allowed in a manifest"
        elif exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            reason += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        raise ManifestError([Problem(file, line, f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([Problem(file, None, f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
        if gc_was_enabled:
            gc.enable()
    problems = [
        Problem(file, line, f"key '{key}' appears twice in the same mapping")
        for line, key in loader.duplicates
    ]
    problems += [Problem(file, line, _secret_message(key)) for line, key in loader.secrets]
    if "&" in text:  # without an anchor there is no alias, so nothing can blow up
        problems += _alias_bomb(data, file)
    if problems:
        raise ManifestError(problems)
    return data


def _alias_bomb(root: Any, file: str) -> list[Problem]:
    """A problem if aliases make the document expand far beyond its own size.

    Counts each distinct object once (memoized by identity), so a billion-laughs
    document costs as little as its text.
    """
    expanded: dict[int, int] = {}
    distinct = 0
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:  # iterative post-order: deep documents cannot overflow the C stack
        node, children_done = stack.pop()
        if id(node) in expanded or not isinstance(node, (dict, list)):
            continue
        children = list(node.values()) if isinstance(node, dict) else node
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in expanded)
            continue
        distinct += 1
        expanded[id(node)] = 1 + sum(expanded.get(id(child), 1) for child in children)
    total = expanded.get(id(root), 1)
    if total <= MAX_ALIAS_EXPANSION * distinct + 10_000:
        return []
    return [
        Problem(
            file,
            None,
            f"aliases expand this document to {total:,} values, over "
            f"{MAX_ALIAS_EXPANSION}x its own size; write the values out or use "
            "`defaults:`",
        )
    ]


def _secret_message(key: str) -> str:
    names = ", ".join(c.key_env_var for c in CAPABILITIES_BY_PROVIDER.values())
    return (
        f"'{key}' found: API keys never go in a manifest; set the provider's environment "
        f"variable instead ({names})"
    )


def load_manifest(path: Path) -> Manifest:
    """Read, parse and schema-check a manifest; ManifestError lists every problem."""
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
    data = load_yaml(text, file)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else short(data)
        raise ManifestError(
            [
                Problem(
                    file, 1, f"a manifest is a mapping with version, provider and jobs (got {got})"
                )
            ]
        )
    top, entry, _ = _checks()
    problems = job_schema_problems(top, data, file, None)
    if problems:
        raise ManifestError(problems)
    jobs: list[LineDict] = []
    for index, job in enumerate(data["jobs"]):
        job_problems = job_schema_problems(entry, job, file, _job_label(job, index))
        problems += job_problems
        if not job_problems:
            jobs.append(job)
    provider = data["provider"]
    output = data.get("output")
    return Manifest(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        name=data.get("name") or path.stem,
        providers=tuple(provider) if isinstance(provider, list) else (provider,),
        model=data.get("model", "hailuo-02"),
        output=(path.parent / output) if output else None,
        defaults=data.get("defaults", {}),
        limits=data.get("limits", {}),
        vars=data.get("vars", {}),
        prices=data.get("prices", {}),
        jobs=jobs,
        problems=problems,
    )


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


def short(value: Any, limit: int = 60) -> str:
    """A value for a message: never a whole huge instance."""
    text = repr(value)
    if isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list):
        text = f"a list of {len(value)}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


_INT_COLUMNS = frozenset({"duration", "samples"})
_BOOL_COLUMNS = frozenset({"prompt_optimizer", "fast_pretreatment"})
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def read_rows(path: Path) -> Iterable[tuple[int, dict[str, Any] | str]]:
    """Rows of a `from:` file as (line, fields), or (line, problem) for an unreadable row.

    CSV: a header row names the columns; empty cells are absent; numbers and booleans
    in job-field columns are converted so the schema sees their real type.
    JSONL: one JSON object per non-blank line.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"`from:` file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read `from:` file {path}: {exc}") from None
    if path.suffix == ".jsonl":
        return list(_jsonl_rows(text))
    return list(_csv_rows(text, path))


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, f"invalid JSON: {exc}"
            continue
        yield number, row if isinstance(row, dict) else f"expected a JSON object (got {short(row)})"


def _csv_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ValueError(f"`from:` file {path} is empty (a header row names the columns)")
    for row in reader:
        line = reader.line_num
        if None in row:
            yield line, f"more cells than the header has columns ({len(reader.fieldnames)})"
            continue
        yield line, {k: _cell(k, v) for k, v in row.items() if v not in ("", None)}


def _cell(column: str, value: str) -> Any:
    if column in _INT_COLUMNS and value.strip().lstrip("-").isdigit():
        return int(value)
    if column in _BOOL_COLUMNS and value.strip().lower() in _BOOLS:
        return _BOOLS[value.strip().lower()]
    return value
