"""`results.parquet`: the data set's index as one typed table, for pandas, Polars, DuckDB
and Spark. Writes a file; needs pyarrow (`pip install 'hailuo-batch[parquet]'`).

The columns are those of `results.jsonl`, nested objects flattened with dots
(`request.prompt`, `request.image.source`, `timings.downloaded`, `media.width`,
`meta.mood`), in `COLUMNS` order, each with one declared type whatever the rows hold, so
every folder's file has the same schema; a job without a first frame has nulls in
`request.image.*`. `warnings` stays a list of text, `request.references` (H3's) a list of
{kind, source, sha256}. Labels (`meta.<name>`) follow
`request.sample`, typed from their values (a label of mixed types is text, as in
`videos/metadata.jsonl`); media facts a newer probe adds go last. Times are epoch
seconds, as in results.jsonl.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hailuo_batch.core.layout import RESULTS_PARQUET
from hailuo_batch.errors import MissingPackageError
from hailuo_batch.outputs.metadata import uniform_labels
from hailuo_batch.outputs.results import result_rows
from hailuo_batch.store.atomic import atomic_write
from hailuo_batch.store.lockfile import LockDocument

if TYPE_CHECKING:
    import pyarrow as pa

_TEXT, _INT, _FLOAT, _BOOL, _TEXTS = "string", "int64", "float64", "bool", "list<string>"
_REFERENCES = "list<struct<kind, source, sha256>>"

COLUMNS: dict[str, str] = {
    "id": _TEXT,
    "key": _TEXT,
    "path": _TEXT,
    "sha256": _TEXT,
    "bytes": _INT,
    "simulated": _BOOL,
    "request.model": _TEXT,
    "request.prompt": _TEXT,
    "request.duration": _INT,
    "request.resolution": _TEXT,
    "request.prompt_optimizer": _BOOL,
    "request.fast_pretreatment": _BOOL,
    "request.image.source": _TEXT,
    "request.image.sha256": _TEXT,
    "request.end_image.source": _TEXT,
    "request.end_image.sha256": _TEXT,
    "request.subject_reference.source": _TEXT,
    "request.subject_reference.sha256": _TEXT,
    "request.references": _REFERENCES,
    "request.ratio": _TEXT,
    "request.audio": _BOOL,
    "request.sample": _INT,
    # meta.<label> columns go here
    "provider": _TEXT,
    "task_id": _TEXT,
    "attempts": _INT,
    "timings.submitted": _FLOAT,
    "timings.started": _FLOAT,
    "timings.finished": _FLOAT,
    "timings.downloaded": _FLOAT,
    "cost_usd": _FLOAT,
    "charged_usd": _FLOAT,
    "media.container": _TEXT,
    "media.codec": _TEXT,
    "media.width": _INT,
    "media.height": _INT,
    "media.fps": _FLOAT,
    "media.frames": _INT,
    "media.duration": _FLOAT,
    "media.audio": _TEXT,
    "warnings": _TEXTS,
    "source.file": _TEXT,
    "source.line": _INT,
    "manifest.name": _TEXT,
    "manifest.sha256": _TEXT,
    "tool.name": _TEXT,
    "tool.version": _TEXT,
}
"""Every fixed column and its Arrow type."""
_LABELS_AFTER = "request.sample"


def flat_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A results row with nested objects flattened into dotted names (lists kept)."""
    return dict(_flatten(row, ""))


def _flatten(value: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for name, item in value.items():
        dotted = f"{prefix}{name}"
        if isinstance(item, dict):
            yield from _flatten(item, f"{dotted}.")
        elif item is not None or dotted not in _GROUPS:  # no first frame: nulls below
            yield dotted, item


_GROUPS = frozenset(
    name[:end] for name in COLUMNS for end in range(len(name)) if name[end] == "."
) | {"meta"}


def table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """The results rows as an Arrow table: fixed columns typed, labels and new facts after."""
    import pyarrow as pa

    flat = [flat_row(row) for row in uniform_labels(rows)]
    seen = dict.fromkeys(name for row in flat for name in row)
    labels = [name for name in seen if name.startswith("meta.")]
    extra = [name for name in seen if name not in COLUMNS and name not in labels]
    fixed = list(COLUMNS)
    at = fixed.index(_LABELS_AFTER) + 1
    names = [*fixed[:at], *labels, *fixed[at:], *extra]
    columns = {}
    for name in names:
        values = [row.get(name) for row in flat]
        kind = COLUMNS.get(name)
        columns[name] = pa.array(values, type=_arrow_type(kind) if kind else None)
    return pa.table(columns)


def _arrow_type(kind: str) -> pa.DataType:
    import pyarrow as pa

    types = {
        _TEXT: pa.string(),
        _INT: pa.int64(),
        _FLOAT: pa.float64(),
        _BOOL: pa.bool_(),
        _TEXTS: pa.list_(pa.string()),
        _REFERENCES: pa.list_(
            pa.struct([("kind", pa.string()), ("source", pa.string()), ("sha256", pa.string())])
        ),
    }
    return types[kind]


def write_parquet(folder: Path, lock: LockDocument) -> Path:
    """Rewrite `results.parquet` from the lockfile; MissingPackageError without pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingPackageError("results.parquet", "pyarrow", "parquet") from None
    sink = pa.BufferOutputStream()
    pq.write_table(table(result_rows(lock)), sink)
    path = folder / RESULTS_PARQUET
    atomic_write(path, sink.getvalue().to_pybytes())
    return path
