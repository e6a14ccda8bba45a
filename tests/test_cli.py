"""The command line: every command documented with an example; exit codes; fast start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from hailuo_batch.cli import cli
from tests.helpers.cli import ROOT, finish, run_line, spawn

COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = run_line(name, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "hailuo-batch " + name in result.output


def test_every_option_is_explained() -> None:
    for name, command in cli.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts} has no help"


def test_validate_warns_about_a_missing_key_but_passes() -> None:
    result = run_line("validate", str(ROOT / "pipelines" / "quickstart.yaml"))
    assert result.exit_code == 0
    assert "NOVITA_API_KEY is not set" in result.output


def test_validate_of_a_missing_file_is_exit_2_without_traceback() -> None:
    result = run_line("validate", "no/such/manifest.yaml")
    assert result.exit_code == 2
    assert "no/such/manifest.yaml: cannot read manifest" in result.output


def test_plan_json_counts_jobs_and_prices(tmp_path: Path) -> None:
    result = run_line(
        "plan", str(ROOT / "pipelines" / "nightly-content.yaml"), "--out", str(tmp_path), "--json"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert summary["total"] == 6 and summary["to_submit"] == 6 and summary["done"] == 0
    assert summary["estimated_cost_usd"] == pytest.approx(3 * 0.28 + 3 * 0.56)
    assert [job["state"] for job in summary["jobs"]] == ["to submit"] * 6
    first = summary["jobs"][0]
    assert set(first) == {
        "id",
        "key",
        "model",
        "provider",
        "duration",
        "resolution",
        "state",
        "estimated_cost_usd",
        "price_source",
    }


def test_plan_table_lists_jobs_and_says_unknown_prices(tmp_path: Path) -> None:
    result = run_line("plan", str(ROOT / "pipelines" / "quickstart.yaml"), "--out", str(tmp_path))
    assert result.exit_code == 0
    assert "car " in result.output and "estimated cost unknown" in result.output
    assert "set them under `prices:`" in result.output


def test_help_and_validate_start_fast_without_heavy_imports() -> None:
    """`validate` must not import aiohttp, asyncio, FFmpeg, rich or jsonschema (only needed
    to explain a rejected manifest): the import-time budget is 100 ms."""
    code = (
        "import sys, hailuo_batch.cli, hailuo_batch.api; heavy = ('aiohttp', 'asyncio', "
        "'av', 'rich', 'jsonschema'); print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.stdout.strip() == "[]"


def test_python_dash_m_runs_the_same_cli() -> None:
    child = spawn("--version")
    assert finish(child).startswith("hailuo-batch, version") and child.returncode == 0
