"""Running the simulator: in-process for tests and `run --simulate`, or until stopped. Network I/O.

`running_in_process` listens on 127.0.0.1 at a free port and yields the base URL; each
provider is then at `<base>/<provider>`. `run_forever` is what `hailuo-batch sim` calls.
"""

from __future__ import annotations

import asyncio
import errno
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from hailuo_batch.errors import HailuoBatchError
from hailuo_batch.simulator.app import make_app
from hailuo_batch.simulator.config import PROVIDER_NAMES, SimConfig


class ListenError(HailuoBatchError, OSError):
    """The simulator could not listen at `host`:`port` (in use, no such address, not allowed).

    One of ours, so `hailuo-batch sim` reports it in one line and exits 2 (bad input)."""

    def __init__(self, host: str, port: int, cause: OSError) -> None:
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        super().__init__(f"cannot listen on {where}: {_advice(cause)}")
        self.host = host
        self.port = port
        self.errno = cause.errno  # as the OSError it wraps said (EADDRINUSE, EACCES ...)


def _advice(cause: OSError) -> str:
    if cause.errno == errno.EADDRINUSE:
        return (
            "the port is already in use (another simulator?); "
            "stop what holds it or choose another port"
        )
    if cause.errno == errno.EACCES:
        return "not allowed to use this port; choose a port above 1023"
    if cause.errno == errno.EADDRNOTAVAIL:
        return "this machine has no such address; choose one of its addresses as host"
    reason = cause.strerror or str(cause)
    return f"{reason}; check the host and port"


@asynccontextmanager
async def _listening(config: SimConfig, host: str, port: int) -> AsyncIterator[str]:
    runner = web.AppRunner(make_app(config), access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:  # socket.gaierror included: an unknown host name
            raise ListenError(host, port, exc) from exc
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield f"http://{shown}:{bound_port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def running_in_process(config: SimConfig) -> AsyncIterator[str]:
    """Serve on 127.0.0.1 at a free port while the block runs; yields `http://127.0.0.1:<port>`."""
    async with _listening(config, "127.0.0.1", 0) as base_url:
        yield base_url


async def serve(
    config: SimConfig,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until cancelled; `on_ready` gets the base URL once the port is bound.

    Raises `ListenError` when the address cannot be bound (for example a port in use).
    """
    async with _listening(config, host, port) as base_url:
        if on_ready is not None:
            on_ready(base_url)
        await asyncio.Event().wait()


def mount_points(base_url: str) -> dict[str, str]:
    """Each provider's base URL, as `--base-url PROVIDER=URL` wants it."""
    return {name: f"{base_url}/{name}" for name in PROVIDER_NAMES}


def run_forever(config: SimConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until Ctrl-C, announcing the base URL and mount points on stderr.

    Raises `ListenError` when the address cannot be bound; nothing is announced then.
    """

    def announce(base_url: str) -> None:
        print(f"hailuo-batch simulator listening on {base_url}", file=sys.stderr)
        for name, url in mount_points(base_url).items():
            print(f"  {name:<8} {url}", file=sys.stderr)
        print(f"  stats    {base_url}/_sim/stats", file=sys.stderr)
        print("press Ctrl-C to stop", file=sys.stderr)

    try:
        asyncio.run(serve(config, host, port, on_ready=announce))
    except KeyboardInterrupt:
        print("simulator stopped", file=sys.stderr)
