"""Benchmark: a 50 MB download over loopback against plain file writes of the same bytes.

Goal (full-slots issue): the transport's download reaches >= 0.9x the speed of writing
the file directly, and holds <= 2 MB of memory per download (measured with tracemalloc
over 8 concurrent downloads). Prints medians of 3.
Run: python bench/download_speed.py [MB]
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from hailuo_batch.transport import AiohttpTransport

SERVER = """
import sys
from aiohttp import web
app = web.Application()
app.router.add_static("/files", sys.argv[1])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), access_log=None, print=None)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """A static file server in its own process, as a CDN would be."""
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(folder), str(port)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return server
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the file server did not start")


def plain_write(path: Path, body: bytes) -> float:
    start = time.perf_counter()
    with path.open("wb") as handle:
        for offset in range(0, len(body), 1 << 20):
            handle.write(body[offset : offset + (1 << 20)])
        handle.flush()
        os.fsync(handle.fileno())
    return time.perf_counter() - start


async def main(megabytes: int) -> None:
    body = os.urandom(megabytes * 1_000_000)
    transport = AiohttpTransport()
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as served:
        (Path(served) / "v.mp4").write_bytes(body)
        port = free_port()
        server = serve(Path(served), port)
        url = f"http://127.0.0.1:{port}/files/v.mp4"
        folder = Path(tmp)
        plain, ours = [], []
        for _ in range(3):
            plain.append(plain_write(folder / "plain.mp4", body))
            start = time.perf_counter()
            got = await transport.download(url, folder / "ours.mp4")
            assert got.status == 200, got
            with (folder / "ours.mp4").open("rb") as handle:
                os.fsync(handle.fileno())
            ours.append(time.perf_counter() - start)
            assert got.status == 200 and got.bytes == len(body)
        tracemalloc.start()
        await asyncio.gather(*(transport.download(url, folder / f"c{i}.mp4") for i in range(8)))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        server.terminate()
        server.wait()
    await transport.close()
    p, o = statistics.median(plain), statistics.median(ours)
    size = len(body) / 1e6
    print(
        f"{size:.0f} MB: plain writes {size / p:.0f} MB/s, download {size / o:.0f} MB/s "
        f"({p / o:.2f}x plain); peak Python memory over 8 concurrent downloads "
        f"{peak / 1e6:.1f} MB ({peak / 8e6:.2f} MB each)"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
