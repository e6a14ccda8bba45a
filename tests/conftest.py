"""Shared fixtures: a clean environment (no real keys), a CLI runner, paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hailuo_batch.capabilities import CAPABILITIES_BY_PROVIDER
from hailuo_batch.cli import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test can read a real API key from the machine it runs on."""
    for caps in CAPABILITIES_BY_PROVIDER.values():
        monkeypatch.delenv(caps.key_env_var, raising=False)
    yield


def run_line(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process as a user would type it."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
