"""Running the simulator for real: in-process on a free port, and as `hailuo-batch sim` runs it."""

from __future__ import annotations

import asyncio
import errno
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import aiohttp
import pytest
from simwire import AUTH

from hailuo_batch.simulator import (
    PROVIDER_NAMES,
    ListenError,
    SimConfig,
    mount_points,
    running_in_process,
    serve,
)
from tests.helpers.cli import finish, spawn


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that this test holds open (listening) while it runs."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


async def test_running_in_process_serves_every_provider_until_the_block_ends() -> None:
    async with running_in_process(SimConfig(gen_seconds=0.05)) as base_url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        async with aiohttp.ClientSession() as session:
            submit = f"{base_url}/gmi/api/v1/ie/requestqueue/apikey/requests"
            body = {"model": "Minimax-Hailuo-02", "payload": {"prompt": "p"}}
            async with session.post(submit, json=body, headers=AUTH) as response:
                assert response.status == 200
            async with session.get(f"{base_url}/_sim/stats") as response:
                assert (await response.json())["by_provider"]["gmi"]["submitted"] == 1
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session, session.get(f"{base_url}/_sim/stats"):
            pass


async def test_serve_reports_its_url_and_stops_when_cancelled() -> None:
    ready: asyncio.Queue[str] = asyncio.Queue()
    server = asyncio.create_task(serve(SimConfig(), "127.0.0.1", 0, on_ready=ready.put_nowait))
    base_url = await asyncio.wait_for(ready.get(), 5)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base_url}/_sim/stats") as response,
    ):
        assert response.status == 200
    server.cancel()
    with pytest.raises(asyncio.CancelledError):
        await server


def test_mount_points_name_every_provider() -> None:
    points = mount_points("http://127.0.0.1:8765")
    assert list(points) == list(PROVIDER_NAMES)
    assert points["novita"] == "http://127.0.0.1:8765/novita"


def test_run_forever_announces_mount_points_and_stops_cleanly_on_ctrl_c() -> None:
    """What `hailuo-batch sim` does: print where each provider is, then stop on SIGINT."""
    code = (
        "from hailuo_batch.simulator import SimConfig, run_forever;"
        "run_forever(SimConfig(), '127.0.0.1', 0)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines = [process.stderr.readline() for _ in range(len(PROVIDER_NAMES) + 2)]
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=10)[1]
    assert process.returncode == 0
    assert re.search(r"listening on http://127\.0\.0\.1:\d+", lines[0])
    assert all(any(f"/{name}" in line for line in lines) for name in PROVIDER_NAMES)
    assert "stopped" in rest


async def test_serve_on_a_port_in_use_raises_a_listen_error_naming_it(taken_port: int) -> None:
    with pytest.raises(ListenError) as caught:
        await serve(SimConfig(), "127.0.0.1", taken_port)
    assert (caught.value.host, caught.value.port) == ("127.0.0.1", taken_port)
    assert caught.value.errno == errno.EADDRINUSE
    assert isinstance(caught.value, OSError)  # callers catching OSError still do


def test_the_sim_command_on_a_port_in_use_says_so_in_one_line_and_exits_2(
    taken_port: int,
) -> None:
    """No traceback: where, why, and what to do, as every bad input is reported."""
    child = spawn("sim", "--port", str(taken_port))
    output = finish(child, timeout=30)
    assert child.returncode == 2
    (line,) = output.splitlines()
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{taken_port}: ")
    assert "already in use" in line and "choose another port" in line
