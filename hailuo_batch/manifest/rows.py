"""Rows of a `from:` file (CSV with a header, or JSONL) as job fields. Reads files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from hailuo_batch.errors import short

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
