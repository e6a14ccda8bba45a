"""A simulator serving from its own thread and event loop, for whole-CLI tests."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from click.testing import Result

from tests.helpers.cli import TEST_KEY, keys_env, run_line, spawn


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

    def stats(self) -> dict[str, Any]:
        """`/_sim/stats`: counters (ints), `by_provider` and `faults_by_kind` (objects)."""
        import json
        import urllib.request

        with urllib.request.urlopen(f"{self.base_url}/_sim/stats", timeout=10) as response:
            loaded: dict[str, Any] = json.loads(response.read())
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
        return spawn(*self._run_args(manifest, providers), *args, env=keys_env(key), stderr=stderr)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
