"""`videos/metadata.jsonl`: the videos folder as a Hugging Face data set. Writes files.

`datasets.load_dataset("videofolder", data_dir="OUT/videos")` reads it with no code: a
line per finished video, its `file_name` (relative to `videos/`) and the same fields as
its `results.jsonl` line. What the videofolder loader (`datasets`' folder_based_builder,
read at 4.x-5.x) needs, and how the lines answer it:

- it types every column from the first 10 MB of the file alone, and a column that is null
  on every line there (`end_image`, `cost_usd`, `warnings`, a label of a few rows) fails
  the whole load when a later line has a value: the lines that first show a value are
  written first (`representatives_first`), the rest in id order;
- pyarrow refuses a column whose values change type: a label (`meta`) that is a number
  in one row and text in another, or a list or an object, is written as JSON text
  (`uniform_labels`);
- `file_name` must stay inside the folder: `fox.mp4`, never `../` or absolute;
- with a metadata file, only its lines become rows: a superseded video moved aside to
  `videos/<id>~<key12>.mp4` has no line and is not loaded;
- a file name holding a split word (`test-fox.mp4`, `koi_val.mp4`, `dev.mp4`) makes
  `data_dir=` infer splits from names and load that file alone: `split_word_files`
  finds them, so `report` can say how to load such a folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from hailuo_batch.core.layout import METADATA, VIDEOS
from hailuo_batch.store.atomic import atomic_write

# datasets' data_files.py: a name with one of these words between "-._ 0-9" (or at its
# start) is taken for a split, and `data_dir=` then loads only the files of the splits
_SPLIT_WORD = re.compile(
    r"(?:^|[-._ 0-9])(train|training|validation|valid|dev|val|test|testing|eval|evaluation)"
    r"[-._ 0-9]"
)


def metadata_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A results row as a line of metadata.jsonl: `file_name` first, relative to `videos/`."""
    return {"file_name": str(row["path"]).removeprefix(f"{VIDEOS}/"), **row}


def metadata_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The lines of a complete metadata.jsonl: labels of one type, representatives first."""
    return representatives_first([metadata_row(row) for row in uniform_labels(rows)])


def write_metadata(folder: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Rewrite `videos/metadata.jsonl` complete from the results rows."""
    path = folder / METADATA
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, b"".join(orjson.dumps(line) + b"\n" for line in metadata_rows(rows)))
    return path


def append_metadata(folder: Path, row: Mapping[str, Any]) -> None:
    """One more line, as a video finishes (the complete rewrite at the end orders them)."""
    path = folder / METADATA
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        handle.write(orjson.dumps(metadata_row(row)) + b"\n")


def uniform_labels(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows, with every label (`meta` key) of one type across them: a label whose
    values are not all text, all numbers or all booleans becomes JSON text (text stays
    as it is), since a column of mixed types loads neither as Arrow nor as Parquet."""
    kinds: dict[str, set[str]] = {}
    for row in rows:
        for name, value in row["meta"].items():
            kinds.setdefault(name, set()).add(_kind(value))
    mixed = {name for name, found in kinds.items() if len(found - {"null"}) > 1 or "json" in found}
    if not mixed:
        return list(rows)
    return [
        {
            **row,
            "meta": {
                name: _as_text(value) if name in mixed else value
                for name, value in row["meta"].items()
            },
        }
        for row in rows
    ]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: a bool is an int in Python
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "text" if isinstance(value, str) else "json"


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def representatives_first(lines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines, those that first give a value to some column moved to the front.

    datasets types each column from the first 10 MB of the file: with one line per
    column shape up front (a few dozen lines at most), every column gets its type there.
    """
    seen: set[str] = set()
    front: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for line in lines:
        before = len(seen)
        _add_leaves(line, "", seen)
        (front if len(seen) > before else rest).append(line)
    return front + rest


def _add_leaves(value: Any, path: str, into: set[str]) -> None:
    """Add the paths of the non-null leaves of a JSON value (`.request.image.source`)."""
    if isinstance(value, dict):
        for name, item in value.items():
            _add_leaves(item, f"{path}.{name}", into)
    elif isinstance(value, list):
        for item in value:
            _add_leaves(item, f"{path}[]", into)
    elif value is not None:
        into.add(path)


def split_word_files(names: Iterable[str]) -> list[str]:
    """The video file names that `load_dataset(..., data_dir=)` would take for a split."""
    return sorted(name for name in names if _SPLIT_WORD.search(name))
