"""YAML as a manifest is read: safely, keeping the line of every mapping, key and list. Pure.

Object-constructing tags are refused (safe loading), a key given twice in one mapping is
an error rather than a silent overwrite, alias bombs are refused before anything walks
the document as a tree, and keys that look like secrets are refused so keys stay in the
environment.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import yaml

from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER
from hailuo_batch.errors import ManifestError, Problem

if TYPE_CHECKING:
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


def load_yaml(text: str, file: str) -> Any:
    """Parse YAML safely, keeping lines; raise ManifestError for syntax, tags, duplicates."""
    data, problems = parse_yaml(text, file)
    if problems:
        raise ManifestError(problems)
    return data


def parse_yaml(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse YAML safely, keeping lines, with the problems that leave the data usable.

    A key given twice (the last wins) or a secret-looking key comes back as a problem
    beside the data, so the caller can go on checking the rest; invalid syntax, tags
    that build objects and alias bombs raise ManifestError: nothing can be read then.
    """
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
        bomb = _alias_bomb(data, file)
        if bomb:
            raise ManifestError([*problems, *bomb])
    return data, problems


def from_data(data: Any, file: str) -> tuple[Any, list[Problem]]:
    """A manifest built in Python (dicts and lists), as `parse_yaml` would give it: the
    same containers (without lines: problems name the keys instead) and the same refusal
    of secret-looking keys."""
    problems: list[Problem] = []

    def convert(value: Any) -> Any:
        if isinstance(value, Mapping):
            mapping = LineDict()
            for key, item in value.items():
                if isinstance(key, str) and _SECRET_KEY.match(key):
                    problems.append(Problem(file, None, _secret_message(key)))
                mapping[key] = convert(item)
            return mapping
        if isinstance(value, list | tuple):
            sequence = LineList()
            sequence.extend(convert(item) for item in value)
            return sequence
        return value

    return convert(data), problems


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
