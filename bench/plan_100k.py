"""Benchmark: validate + plan a 100,000-job manifest, from a CSV and inline in YAML.

Prints wall time and peak RSS for each; goals (issue 2): <= 5 s and <= 500 MB each,
on the 2-core reference machine. Run: python bench/plan_100k.py [N]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import os, sys, time, resource
from pathlib import Path
start = time.perf_counter()
from hailuo_batch.engine.planning import load_plan
plan, _ = load_plan(Path(sys.argv[1]), {"NOVITA_API_KEY": "x"}, keys="warning")
elapsed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{len(plan.jobs)} {elapsed:.2f} {rss:.0f}")
"""


def write_inputs(folder: Path, n: int) -> tuple[Path, Path]:
    moods = ["calm", "stormy", "bright", "dusky"]
    with (folder / "rows.csv").open("w") as csv_file:
        csv_file.write("id,prompt,duration,resolution,mood\n")
        for i in range(n):
            csv_file.write(
                f'job-{i},"Scene {i}: a lighthouse at dusk, {{mood}} [Push in]",'
                f"{6 if i % 3 else 10},768P,{moods[i % 4]}\n"
            )
    (folder / "from-csv.yaml").write_text(
        "version: 1\nprovider: novita\njobs:\n  - from: rows.csv\n"
    )
    with (folder / "inline.yaml").open("w") as yaml_file:
        yaml_file.write("version: 1\nprovider: novita\nvars: {style: film}\njobs:\n")
        for i in range(n):
            yaml_file.write(
                f'  - id: job-{i}\n    prompt: "Scene {i}: a lighthouse, {{style}}"\n'
                f"    duration: {6 if i % 3 else 10}\n    resolution: 768P\n"
            )
    return folder / "from-csv.yaml", folder / "inline.yaml"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        for manifest in write_inputs(Path(tmp), n):
            size = manifest.stat().st_size + (Path(tmp) / "rows.csv").stat().st_size * (
                manifest.name == "from-csv.yaml"
            )
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(manifest)],
                capture_output=True,
                text=True,
                check=True,
            )
            jobs, seconds, rss = out.stdout.split()
            print(
                f"{manifest.name:14} {jobs} jobs ({size / 1e6:.1f} MB input): "
                f"validate+plan {seconds} s, peak RSS {rss} MB"
            )


if __name__ == "__main__":
    main()
