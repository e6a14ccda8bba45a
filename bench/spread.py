"""Benchmark: throughput with one provider, and with three of equal capacity spread over.

`routing: spread` should keep every listed provider's slots busy at once: three providers
of C slots each finish N jobs about three times as fast as one (goal >= 2.8x). One
simulator serves all three (each provider has its own C slots); prints wall times and
videos per minute, medians of --repeat runs.

    python bench/spread.py                 # N=300, C=20 per provider, G=2 s
    python bench/spread.py -n 600 -c 20 -g 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run_efficiency import manifest, simulator, stats, timed_run

THREE = ("novita", "gmi", "aimlapi")


def throughput(args: argparse.Namespace, providers: tuple[str, ...], folder: Path) -> float:
    """Wall seconds of one run of N jobs over `providers`."""
    options = ["--gen-seconds", str(args.gen_seconds), "--max-concurrent", str(args.concurrency)]
    with simulator(*options) as base:
        wall, _ = timed_run(
            manifest(folder, args.jobs, args.concurrency, providers), base, providers
        )
        seen = stats(base)
    used = {name: seen["by_provider"][name]["submitted"] for name in providers}
    print(f"  {'+'.join(providers)}: {wall:.2f} s, submits per provider {used}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--jobs", type=int, default=300)
    parser.add_argument("-c", "--concurrency", type=int, default=20, help="slots per provider")
    parser.add_argument("-g", "--gen-seconds", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one, three = [], []
        for i in range(args.repeat):
            one.append(throughput(args, ("novita",), Path(tmp) / f"one{i}"))
            three.append(throughput(args, THREE, Path(tmp) / f"three{i}"))
    n, a, b = args.jobs, statistics.median(one), statistics.median(three)
    print(
        f"N={n} C={args.concurrency} per provider G={args.gen_seconds}s (median of {args.repeat}): "
        f"one provider {a:.2f} s ({60 * n / a:.0f} videos/min), three spread {b:.2f} s "
        f"({60 * n / b:.0f} videos/min): {a / b:.2f}x"
    )


if __name__ == "__main__":
    main()
