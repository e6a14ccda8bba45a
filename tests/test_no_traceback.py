"""Users never see a traceback: every CLI test's output is searched for one.

`tests/helpers/cli.py` checks the output of every in-process run (`run_line`) and every
child process it waits for (`finish`); these tests prove the check bites, and that no
test runs the CLI around it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.cli import no_traceback, run_line

TESTS = Path(__file__).resolve().parent


def test_the_check_catches_a_traceback() -> None:
    with pytest.raises(AssertionError):
        no_traceback('Traceback (most recent call last):\n  File "x.py", line 1\nKeyError: 1')


def test_no_test_runs_the_cli_around_the_check() -> None:
    direct = re.compile(r"CliRunner\(|\"-m\",\s*\"hailuo_batch\"")
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if "helpers" not in path.parts
        and path.name != "test_no_traceback.py"
        and direct.search(path.read_text())
    ]
    assert offenders == []


def test_an_internal_error_is_one_line_with_the_way_to_see_more(tmp_path: Path) -> None:
    """A bug outside the engine still reaches the user as one line (exit 3)."""
    (tmp_path / "journal.jsonl").write_bytes(b'{"ev":"run"}\ngarbage\n{"ev":"run"}\n')
    result = run_line("status", str(tmp_path))
    assert result.exit_code == 2  # a damaged journal is bad input, named with its line
    assert "journal.jsonl:2: not a journal event" in result.output
