"""Every invalid manifest gives exit 2 with its expected, located messages; valid ones pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT, run_line

HERE = Path(__file__).parent / "manifests"
INVALID = sorted((HERE / "invalid").glob("*.yaml"))
VALID = sorted((HERE / "valid").glob("*.yaml"))


def expectations(path: Path) -> list[tuple[str | None, str]]:
    """`# expect: LINE: text` (or `# expect: text`) lines from the file's header."""
    found = []
    for line in path.read_text().splitlines():
        match = re.match(r"# expect: (?:(\d+): )?(.*)$", line)
        if match:
            found.append((match[1], match[2]))
    return found


def test_there_are_at_least_25_distinct_mistakes() -> None:
    assert len(INVALID) >= 25


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_manifest_is_refused_where_it_is_wrong(path: Path) -> None:
    result = run_line("validate", str(path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    expected = expectations(path)
    assert expected, f"{path.name} states no expectation"
    for line, text in expected:
        assert text in result.output, result.output
        if line:
            assert f"{path.name}:{line}:" in result.output, result.output


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_manifest_passes(path: Path) -> None:
    result = run_line("validate", str(path))
    assert result.exit_code == 0, result.output


def test_pipelines_all_validate() -> None:
    pipelines = sorted((ROOT / "pipelines").glob("*.yaml"))
    assert pipelines
    result = run_line("validate", *map(str, pipelines))
    assert result.exit_code == 0, result.output


def test_every_pipeline_names_its_schema() -> None:
    for path in (ROOT / "pipelines").glob("*.yaml"):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/manifest.schema.json", path
