"""Shared fixtures: a clean environment (no real keys), a CLI runner, paths."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hailuo_batch.cli import cli
from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test can read a real API key from the machine it runs on."""
    for caps in CAPABILITIES_BY_PROVIDER.values():
        monkeypatch.delenv(caps.key_env_var, raising=False)
    yield


TEST_KEY = "sk-test-key"


def keys_env(key: str) -> dict[str, str]:
    """Every provider's key variable set to `key`."""
    return {caps.key_env_var: key for caps in CAPABILITIES_BY_PROVIDER.values()}


def journal_lines(out: Path) -> int:
    """How many events an output folder's journal holds (0 before it exists)."""
    try:
        return (out / "journal.jsonl").read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def run_line(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process as a user would type it."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


class SimThread:
    """A simulator serving from its own thread and event loop, for whole-CLI tests.

    The CLI under test runs `asyncio.run` in the main thread (in-process) or in a child
    process (for kills and signals); either way it talks real HTTP to this server.
    """

    def __init__(self, **settings: object) -> None:
        import asyncio
        import threading

        from hailuo_batch.simulator import SimConfig, running_in_process

        self.config = SimConfig(**settings)  # type: ignore[arg-type]
        self.base_url = ""
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def main() -> None:
            self._stop = asyncio.Event()
            async with running_in_process(self.config) as base_url:
                self.base_url = base_url
                ready.set()
                await self._stop.wait()

        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(main(),), daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("simulator did not start")

    def url(self, provider: str) -> str:
        return f"{self.base_url}/{provider}"

    def stats(self) -> dict[str, object]:
        import json
        import urllib.request

        with urllib.request.urlopen(f"{self.base_url}/_sim/stats", timeout=10) as response:
            loaded: dict[str, object] = json.loads(response.read())
        return loaded

    def _run_args(self, manifest: Path, providers: tuple[str, ...]) -> list[str]:
        urls = [f"{name}={self.url(name)}" for name in providers]
        return ["run", str(manifest), "--quiet", *(a for u in urls for a in ("--base-url", u))]

    def run(
        self,
        manifest: Path,
        *args: str,
        providers: tuple[str, ...] = ("novita",),
        key: str = TEST_KEY,
    ) -> Result:
        """`hailuo-batch run MANIFEST` in-process, every provider pointed at this simulator."""
        return run_line(*self._run_args(manifest, providers), *args, env=keys_env(key))

    def spawn(
        self,
        manifest: Path,
        *args: str,
        providers: tuple[str, ...] = ("novita",),
        key: str = TEST_KEY,
        stderr: int = subprocess.STDOUT,
    ) -> subprocess.Popen[bytes]:
        """The same run in a child process, for kills and signals (stdout is a pipe)."""
        command = [sys.executable, "-m", "hailuo_batch", *self._run_args(manifest, providers)]
        return subprocess.Popen(
            [*command, *args],
            env={**os.environ, "PYTHONPATH": str(ROOT), **keys_env(key)},
            stdout=subprocess.PIPE,
            stderr=stderr,
        )

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def sim_server() -> Iterator[Callable[..., SimThread]]:
    """Start simulators with `SimConfig` fields; all are stopped after the test."""
    started: list[SimThread] = []

    def start(**settings: object) -> SimThread:
        settings.setdefault("gen_seconds", 0.2)
        settings.setdefault("seed", 11)
        server = SimThread(**settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def write_manifest(folder: Path, jobs: int, *, provider: str = "novita", extra: str = "") -> Path:
    """A manifest of `jobs` short text-to-video jobs, fast limits, output in `folder/out`."""
    prompts = ", ".join(f'"scene number {i}"' for i in range(jobs))
    path = folder / "batch.yaml"
    path.write_text(
        f"version: 1\nname: test-batch\nprovider: {provider}\noutput: out\n"
        f"limits: {{concurrency: 8, submit_rate: 1000/s, max_attempts: 3}}\n{extra}"
        f"jobs:\n  - matrix: {{prompt: [{prompts}]}}\n"
    )
    return path
