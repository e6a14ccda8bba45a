"""Imports flow one way: values <- pure logic <- outside world <- engine <- CLI (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hailuo_batch"
LEVEL = {
    "jobs": 1,
    "events": 1,
    "errors": 1,
    "capabilities": 1,
    "clock": 1,
    "prices": 1,
    "schemas": 1,
    "manifest": 2,
    "yamlfile": 2,
    "rows": 3,
    "plan": 2,
    "checks": 2,
    "providers": 2,
    "retry": 2,
    "limits": 2,
    "polling": 2,
    "budget": 2,
    "gallery": 2,
    "transport": 3,
    "atomic": 3,
    "state": 3,
    "media": 3,
    "report": 3,
    "verify": 3,
    "progress": 3,
    "prepare": 3,
    "engine": 4,
    "fetching": 4,
    "runner": 4,
    "cli": 5,
    "__main__": 5,
    "__init__": 1,
}


def _module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("hailuo_batch."):
                found.add(name.split(".")[1])
            elif name == "hailuo_batch" and isinstance(node, ast.ImportFrom):
                found.update(alias.name for alias in node.names)
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if _module_of(p) != "simulator")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_import_only_their_level_or_below(path: Path) -> None:
    own = _module_of(path)
    for imported in _imports(path) - {own, "__version__"}:
        if imported == "simulator":
            assert own in ("runner", "cli"), f"{own} imports the simulator"
            continue
        assert LEVEL[imported] <= LEVEL[own], f"{own} (level {LEVEL[own]}) imports {imported}"


def test_the_simulator_never_reads_our_adapters_or_capabilities() -> None:
    for path in (PACKAGE / "simulator").rglob("*.py"):
        imported = _imports(path)
        assert not imported & {"providers", "capabilities", "engine", "plan"}, path
