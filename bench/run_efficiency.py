"""Benchmark: how close a run keeps a provider's slots full, and a no-op re-run.

A simulator with --max-concurrent C and --gen-seconds G cannot finish N jobs faster than
ceil(N/C)*G, nor faster than its `ideal_makespan_s`: the tasks it actually made (their
jittered durations) scheduled at once on its C slots. Prints the run's efficiency against
both (ideal / wall time of the whole `hailuo-batch run` process, start-up included),
how long until every slot was busy, polls per job, submits and duplicates at the
simulator, and the runner's peak RSS; medians of --repeat runs. Then, with --noop M, the
time of re-running a finished folder of M jobs against `validate` of the same manifest.

    python bench/run_efficiency.py                          # N=400 C=20 G=1
    python bench/run_efficiency.py -n 5000 -c 200 -g 2
    python bench/run_efficiency.py -n 20000 -c 500 -g 5 --repeat 1
    python bench/run_efficiency.py -n 400 -c 50 -g 5 --submit-latency 0.5,2
    python bench/run_efficiency.py --noop 10000 --repeat 0
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_AND_MEASURE = (
    "import resource, runpy, sys; sys.argv = ['hailuo-batch'] + sys.argv[1:]\n"
    "try:\n    runpy.run_module('hailuo_batch', run_name='__main__')\n"
    "finally:\n    import os\n"
    "    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
    "    print(rss, file=open(os.environ['RSS_FILE'], 'w'))"
)


@dataclass(frozen=True)
class Figures:
    wall: float
    rss_mb: float
    ideal: float
    full_after: float | None
    polls: int
    submitted: int
    duplicates: int


def manifest(
    folder: Path, jobs: int, concurrency: int, providers: tuple[str, ...] = ("novita",)
) -> Path:
    """N text jobs from a CSV; several providers are spread over (all at once)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "prompts.csv").open("w") as rows:
        rows.write("id,prompt\n")
        for i in range(jobs):
            rows.write(f"job-{i},scene {i}\n")
    path = folder / "bench.yaml"
    routing = "routing: spread\n" if len(providers) > 1 else ""
    path.write_text(
        f"version: 1\nprovider: [{', '.join(providers)}]\n{routing}output: out\n"
        f"limits: {{concurrency: {concurrency}, submit_rate: 10000/s}}\n"
        f"jobs:\n  - from: prompts.csv\n"
    )
    return path


def stats(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/_sim/stats") as response:
        loaded: dict[str, Any] = json.loads(response.read())
    return loaded


def timed_run(
    path: Path, base: str, providers: tuple[str, ...] = ("novita",)
) -> tuple[float, float]:
    """Wall seconds of one `hailuo-batch run` process, and its peak RSS in MB."""
    rss_file = path.with_suffix(".rss")
    keys = {f"{name.upper()}_API_KEY": "bench-key" for name in providers}
    env = {**os.environ, **keys, "RSS_FILE": str(rss_file)}
    command = [sys.executable, "-c", RUN_AND_MEASURE, "run", str(path), "--quiet"]
    for name in providers:
        command += ["--base-url", f"{name}={base}/{name}"]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"run failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, float(rss_file.read_text())


def validate_time(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "hailuo_batch", "validate", str(path)],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start


@contextmanager
def simulator(*options: str) -> Iterator[str]:
    """A `hailuo-batch sim` on a free port; yields its base URL."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "hailuo_batch", "sim", "--port", "0", "--seed", "1", *options],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert sim.stderr is not None
    try:
        while "listening on" not in (line := sim.stderr.readline()):
            if not line:
                sys.exit("the simulator did not start")
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        sim.terminate()
        sim.wait()


def one_run(args: argparse.Namespace, folder: Path) -> Figures:
    options = ["--gen-seconds", str(args.gen_seconds), "--max-concurrent", str(args.concurrency)]
    options += ["--jitter", str(args.jitter), "--submit-latency", args.submit_latency]
    with simulator(*options) as base:
        wall, rss = timed_run(manifest(folder, args.jobs, args.concurrency), base)
        seen = stats(base)
    novita = seen["by_provider"]["novita"]
    return Figures(
        wall,
        rss,
        seen["ideal_makespan_s"],
        novita["slots_full_after_s"],
        seen["polls"],
        seen["submitted"],
        seen["duplicate_submits"],
    )


def report(args: argparse.Namespace, runs: list[Figures]) -> None:
    n, c, g = args.jobs, args.concurrency, args.gen_seconds
    bound = math.ceil(n / c) * g
    med = statistics.median
    fulls = [r.full_after for r in runs if r.full_after is not None]
    print(
        f"run N={n} C={c} G={g}s jitter={args.jitter} submit latency {args.submit_latency}s "
        f"(median of {len(runs)}):\n"
        f"  wall {med(r.wall for r in runs):.2f} s incl. start-up; "
        f"ceil(N/C)*G {bound:.2f} s; ideal_makespan {med(r.ideal for r in runs):.2f} s\n"
        f"  efficiency vs ideal_makespan {med(r.ideal / r.wall for r in runs):.3f} "
        f"(runs: {', '.join(f'{r.ideal / r.wall:.3f}' for r in runs)}); "
        f"vs ceil(N/C)*G {med(bound / r.wall for r in runs):.3f}"
    )
    print(f"  all {c} slots busy after {med(fulls):.2f} s" if fulls else "  slots never all busy")
    print(
        f"  polls/job {med(r.polls / n for r in runs):.2f}; submits "
        f"{med(r.submitted for r in runs):.0f}; duplicates {max(r.duplicates for r in runs)}; "
        f"runner peak RSS {max(r.rss_mb for r in runs):.0f} MB"
    )


def noop(m: int, folder: Path) -> None:
    """A finished folder of m jobs, run again: time beyond `validate`, and requests."""
    with simulator("--gen-seconds", "0.01", "--max-concurrent", "500") as base:
        path = manifest(folder, m, 200)
        first, _ = timed_run(path, base)
        before = stats(base)
        walls = [timed_run(path, base) for _ in range(3)]
        after = stats(base)
    requests = sum(after[k] - before[k] for k in ("submitted", "polls", "downloads"))
    wall = statistics.median(w for w, _ in walls)
    check = statistics.median(validate_time(path) for _ in range(3))
    print(
        f"no-op re-run of {m} finished jobs (median of 3): {wall:.2f} s, {wall - check:.2f} s "
        f"beyond `validate` of the same manifest ({check:.2f} s); {requests} requests; "
        f"peak RSS {max(r for _, r in walls):.0f} MB (first run took {first:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--jobs", type=int, default=400)
    parser.add_argument("-c", "--concurrency", type=int, default=20)
    parser.add_argument("-g", "--gen-seconds", type=float, default=1.0)
    parser.add_argument("--jitter", type=float, default=0.1)
    parser.add_argument("--submit-latency", default="0,0", metavar="LO,HI")
    parser.add_argument("--repeat", type=int, default=3, help="runs to take the median of")
    parser.add_argument("--noop", type=int, default=0, metavar="M", help="also time a no-op")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.repeat:
            report(args, [one_run(args, Path(tmp) / f"run{i}") for i in range(args.repeat)])
        if args.noop:
            noop(args.noop, Path(tmp) / "noop")


if __name__ == "__main__":
    main()
