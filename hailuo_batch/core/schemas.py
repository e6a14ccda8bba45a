"""Loads our JSON Schemas: the top-level `schemas/` folder, as packaged. Reads files.

There is one copy of each schema, at the repository's top level, where editors find it
through a `$schema` line. The wheel carries that folder as `hailuo_batch/_schemas`; a
checkout (or an editable install) reads it beside the package. Both go through
`importlib.resources`-style traversables, so the code path is the same.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.abc import Traversable


def schema_dir() -> Traversable:
    """The packaged schema folder in a wheel, else the checkout's top-level `schemas/`."""
    packaged = files("hailuo_batch") / "_schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas"


@cache
def load(name: str) -> dict[str, Any]:
    """The schema `name` (e.g. "manifest.schema.json") as a dict; FileNotFoundError if absent."""
    resource = schema_dir() / name
    if not resource.is_file():
        raise FileNotFoundError(f"schema {name!r} not found in {schema_dir()}")
    loaded: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return loaded
