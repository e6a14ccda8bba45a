"""The CLI as a user runs it: in-process (`run_line`) or as a child process (`spawn`), with
every output checked for a traceback, which a user must never see."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from hailuo_batch.cli import cli
from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER

ROOT = Path(__file__).resolve().parents[2]
TEST_KEY = "sk-test-key"


def no_traceback(output: str) -> str:
    """`output`, after checking it holds no Python traceback."""
    assert "Traceback (most recent call last)" not in output, output
    return output


def run_line(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process as a user would type it (outputs checked for tracebacks)."""
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    no_traceback(result.output)
    return result


def spawn(
    *args: str,
    env: dict[str, str] | None = None,
    stderr: int = subprocess.STDOUT,
    stdout: int = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """`hailuo-batch ARGS` in a child process, for kills and signals."""
    return subprocess.Popen(
        [sys.executable, "-m", "hailuo_batch", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=stdout,
        stderr=stderr,
    )


def finish(child: subprocess.Popen[bytes], timeout: float = 120) -> str:
    """Wait for a child run; its output (checked for tracebacks)."""
    output, _ = child.communicate(timeout=timeout)
    return no_traceback((output or b"").decode())


def keys_env(key: str) -> dict[str, str]:
    """Every provider's key variable set to `key`."""
    return {caps.key_env_var: key for caps in CAPABILITIES_BY_PROVIDER.values()}


def journal_lines(out: Path) -> int:
    """How many events an output folder's journal holds (0 before it exists)."""
    try:
        return (out / "journal.jsonl").read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def write_manifest(
    folder: Path, jobs: int, *, provider: str = "novita", extra: str = "", attempts: int = 3
) -> Path:
    """A manifest of `jobs` short text-to-video jobs, fast limits, output in `folder/out`."""
    prompts = ", ".join(f'"scene number {i}"' for i in range(jobs))
    path = folder / "batch.yaml"
    path.write_text(
        f"version: 1\nname: test-batch\nprovider: {provider}\noutput: out\n"
        f"limits: {{concurrency: 8, submit_rate: 1000/s, max_attempts: {attempts}}}\n{extra}"
        f"jobs:\n  - matrix: {{prompt: [{prompts}]}}\n"
    )
    return path
