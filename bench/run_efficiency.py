"""Benchmark: how close a run gets to the simulator's ideal time, and a no-op re-run.

Against a simulator with --max-concurrent C --gen-seconds G, N jobs cannot finish faster
than ceil(N/C)*G. Prints efficiency (ideal / actual wall time; goal >= 0.97), polls per
job (goal <= 3) and peak RSS of the run process; then the time of re-running a
finished folder of M jobs (goal: <= 1 s beyond start-up, zero requests).
Run: python bench/run_efficiency.py [N C G] [M]
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manifest(folder: Path, jobs: int, concurrency: int) -> Path:
    with (folder / "prompts.csv").open("w") as rows:
        rows.write("id,prompt\n")
        for i in range(jobs):
            rows.write(f"job-{i},scene {i}\n")
    path = folder / "bench.yaml"
    path.write_text(
        f"version: 1\nprovider: novita\noutput: out\n"
        f"limits: {{concurrency: {concurrency}, submit_rate: 10000/s}}\n"
        f"jobs:\n  - from: prompts.csv\n"
    )
    return path


def stats(base: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base}/_sim/stats") as response:
        loaded: dict[str, int] = json.loads(response.read())
    return loaded


def timed_run(path: Path, base: str) -> tuple[float, float]:
    code = (
        "import resource, runpy, sys; sys.argv = ['hailuo-batch'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('hailuo_batch', run_name='__main__')\n"
        "finally:\n    import os\n"
        "    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "    print(rss, file=open(os.environ['RSS_FILE'], 'w'))"
    )
    env = {**os.environ, "NOVITA_API_KEY": "bench-key", "RSS_FILE": str(path) + ".rss"}
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "run",
            str(path),
            "--quiet",
            "--base-url",
            f"novita={base}/novita",
        ],
        env=env,
        check=False,
        capture_output=True,
    )
    wall = time.perf_counter() - start
    rss = float(Path(str(path) + ".rss").read_text())
    return wall, rss


def startup(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "hailuo_batch", "validate", str(path)],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start


def start_sim(port: int, gen_seconds: float, concurrent: int) -> subprocess.Popen[str]:
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hailuo_batch",
            "sim",
            "--port",
            str(port),
            "--gen-seconds",
            str(gen_seconds),
            "--max-concurrent",
            str(concurrent),
            "--seed",
            "1",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert sim.stderr is not None
    while "listening on" not in sim.stderr.readline():
        pass
    return sim


def main() -> None:
    args = [float(a) for a in sys.argv[1:]]
    n, c, g = (int(args[0]), int(args[1]), args[2]) if len(args) >= 3 else (400, 20, 1.0)
    m = int(args[3]) if len(args) >= 4 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sim = start_sim(8799, g, c)
        try:
            base = "http://127.0.0.1:8799"
            (folder / "a").mkdir()
            wall, rss = timed_run(manifest(folder / "a", n, c), base)
            ideal = math.ceil(n / c) * g
            seen = stats(base)
            print(
                f"run N={n} C={c} G={g}s: wall {wall:.2f} s (incl. start-up), ideal {ideal:.2f} s, "
                f"efficiency {ideal / wall:.3f}; polls/job {seen['polls'] / n:.2f}; "
                f"submits {seen['submitted']}, duplicates {seen['duplicate_submits']}; "
                f"peak RSS {rss:.0f} MB"
            )
        finally:
            sim.terminate()
            sim.wait()
        sim = start_sim(8798, 0.01, 500)  # the first pass only fills the folder: fast tasks
        try:
            base = "http://127.0.0.1:8798"
            (folder / "b").mkdir()
            path = manifest(folder / "b", m, 200)
            wall_first, _ = timed_run(path, base)
            before = stats(base)
            wall_again, rss_again = timed_run(path, base)
            after = stats(base)
            requests = sum(after[k] - before[k] for k in ("submitted", "polls", "downloads"))
            base_start = startup(path)
            print(
                f"no-op re-run of {m} finished jobs: {wall_again:.2f} s "
                f"({wall_again - base_start:.2f} s beyond `validate` of the same manifest, "
                f"{base_start:.2f} s), {requests} requests, peak RSS {rss_again:.0f} MB "
                f"(first run took {wall_first:.1f} s)"
            )
        finally:
            sim.terminate()
            sim.wait()


if __name__ == "__main__":
    main()
