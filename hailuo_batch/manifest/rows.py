"""Rows of a `from:` file (CSV with a header, or JSONL) as job fields. Reads files.

Nothing in a row is guessed: a CSV row whose quotes do not close or whose cells do not
match the header is refused with its line, rather than merged into its neighbour and
paid for as one wrong prompt.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from hailuo_batch.errors import short

if TYPE_CHECKING:
    from _csv import Reader

_INT_COLUMNS = frozenset({"duration", "samples"})
_BOOL_COLUMNS = frozenset({"prompt_optimizer", "fast_pretreatment", "audio"})
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

# What Python's csv module says (3.10 to 3.13), and what the user should do about it.
_CSV_HINTS = {
    "unexpected end of data": (
        "a quoted cell that starts in this row is never closed (the file ends inside "
        'quotes): close it with "'
    ),
    "expected after": (
        'a quote inside a quoted cell must be doubled ("") and nothing may follow the '
        "closing quote before the next comma"
    ),
    "field larger than field limit": (
        "a cell is longer than 131072 characters, most likely a quote that is never closed"
    ),
}


@dataclass(frozen=True, slots=True)
class Rows:
    """A `from:` file as read: its usable rows, where each name first appears, what is wrong.

    `name_kind` says what the file calls its names; `rows` holds (first line of the row,
    fields); `names` maps each CSV column or JSONL key to its line (the header's, or the
    first line that has the key); `problems` holds (line, sentence) for rows that could
    not be read.
    """

    name_kind: Literal["column", "key"]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)


def read_rows(path: Path) -> Rows:
    """Read a `from:` file; ValueError (saying why) if it cannot be read or has no rows.

    CSV: a header row names the columns; every row has one cell per column; empty cells
    are absent; numbers and booleans in job-field columns are converted so the schema
    sees their real type. JSONL: one JSON object per non-blank line.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"`from:` file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read `from:` file {path}: {exc}") from None
    if path.suffix == ".jsonl":
        rows = _jsonl_rows(text)
        empty = f"`from:` file {path} has no rows: write one JSON object per line"
    else:
        rows = _csv_rows(text, path)
        empty = f"`from:` file {path} has a header but no rows: add rows, or remove this entry"
    if not rows.rows and not rows.problems:
        raise ValueError(empty)
    return rows


def _jsonl_rows(text: str) -> Rows:
    read = Rows("key")
    # split on "\n" only: str.splitlines() would also cut at U+2028 and friends, which
    # JSON allows unescaped inside strings
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            read.problems.append((number, f"invalid JSON: {exc}"))
            continue
        if not isinstance(row, dict):
            read.problems.append((number, f"expected a JSON object (got {short(row)})"))
            continue
        for key in row:
            read.names.setdefault(key, number)
        read.rows.append((number, row))
    return read


def _csv_rows(text: str, path: Path) -> Rows:
    # newline="" as the csv docs ask, so quoted cells keep their line breaks (read_text has
    # made every line end "\n": line numbers match what an editor shows)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    read = Rows("column")
    header, header_line = _header(reader, read)
    if header is None:
        if read.problems:
            return read
        raise ValueError(f"`from:` file {path} is empty (a header row names the columns)")
    read.problems.extend(_header_problems(header, header_line))
    for name in header:
        read.names.setdefault(name, header_line)
    convert = [_converter(name) for name in header]
    width = len(header)
    for first, cells in _lines(reader, read):
        if len(cells) != width:
            read.problems.append((first, _ragged(len(cells), width)))
            continue
        read.rows.append(
            (
                first,
                {
                    name: to(value) if to else value
                    for name, to, value in zip(header, convert, cells, strict=True)
                    if value
                },
            )
        )
    return read


def _header(reader: Reader, read: Rows) -> tuple[list[str] | None, int]:
    """The first non-blank row and its line (blank lines before it are skipped)."""
    for first, cells in _lines(reader, read):
        return cells, first
    return None, 0


def _lines(reader: Reader, read: Rows) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each non-blank CSV record; malformed ones go to `problems`."""
    first = reader.line_num + 1
    while True:
        try:
            for cells in reader:  # a for loop, not next(): this runs once per row of 100k
                if cells:
                    yield first, cells
                first = reader.line_num + 1
            return
        except csv.Error as exc:  # the reader goes on at the next line
            read.problems.append((first, _malformed(str(exc))))
            first = reader.line_num + 1


def _header_problems(header: list[str], line: int) -> Iterator[tuple[int, str]]:
    seen: set[str] = set()
    for number, name in enumerate(header, start=1):
        if not name.strip():
            yield line, f"column {number} of the header has no name: name it, or delete it"
        elif name in seen:
            yield line, f"column '{name}' appears twice in the header"
        seen.add(name)


def _malformed(reason: str) -> str:
    hint = next((h for k, h in _CSV_HINTS.items() if k in reason), None)
    return f"malformed CSV row: {hint or reason}"


def _ragged(cells: int, width: int) -> str:
    if cells < width:
        return (
            f"this row has {cells} cell(s) but the header has {width} columns: "
            "leave a cell empty with an extra comma"
        )
    return (
        f"this row has {cells} cells but the header has {width} columns: "
        'quote cells that contain commas ("a, b")'
    )


def _converter(column: str) -> Callable[[str], Any] | None:
    if column in _INT_COLUMNS:
        return _int_cell
    if column in _BOOL_COLUMNS:
        return _bool_cell
    return None


def _int_cell(value: str) -> Any:
    return int(value) if value.strip().lstrip("-").isdigit() else value


def _bool_cell(value: str) -> Any:
    return _BOOLS.get(value.strip().lower(), value)
