"""Imports flow one way, package by package: values <- manifest, policy, providers <- transport,
store <- outputs <- engine <- the library api <- cli (STYLE.md). The simulator stands beside."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hailuo_batch"
LEVEL = {
    "core": 1,
    "errors": 1,
    "manifest": 2,
    "policy": 2,
    "providers": 2,
    "transport": 3,
    "store": 3,
    "outputs": 4,
    "engine": 5,
    "api": 6,
    "cli": 7,
    "__main__": 7,
}
BESIDE = "simulator"  # uses aiohttp.web and the error tree only


def _package_of(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def _imports(path: Path) -> set[str]:
    """The top-level parts of hailuo_batch a module imports (`__init__` for the package root)."""
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
            elif name == "hailuo_batch":
                found.add("__init__")
    return found


SOURCES = sorted(
    p for p in PACKAGE.rglob("*.py") if _package_of(p) not in (BESIDE, "__init__", "_version")
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_import_only_their_level_or_below(path: Path) -> None:
    own = _package_of(path)
    for imported in _imports(path) - {own, "__init__", "_version"}:
        if imported == BESIDE:
            assert own in ("engine", "cli"), f"{own} imports the simulator"
            continue
        assert LEVEL[imported] <= LEVEL[own], f"{own} (level {LEVEL[own]}) imports {imported}"


def test_the_simulator_reads_nothing_of_ours_but_the_error_tree() -> None:
    """It follows docs/providers/ on its own: importing our adapters or capability table
    would make it share their misreadings, and the contract tests would prove nothing."""
    for path in (PACKAGE / BESIDE).rglob("*.py"):
        assert _imports(path) <= {"errors", BESIDE}, path


def test_every_package_is_a_known_layer() -> None:
    packages = {_package_of(p) for p in PACKAGE.rglob("*.py")}
    assert packages - {BESIDE, "__init__", "_version"} == set(LEVEL)
