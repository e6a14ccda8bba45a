"""Journey 1: a user tries the quickstart with --simulate, then runs it for real into the
same folder. Simulated videos are marked everywhere, and the real run makes every one of
them for real, saying how many, paying for each once."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import ROOT, run_line
from tests.helpers.sim import SimThread


def quickstart(tmp_path: Path) -> Path:
    """The README's quickstart manifest, copied with its sample images, output in `out/`."""
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    text = (ROOT / "pipelines" / "quickstart.yaml").read_text()
    path = tmp_path / "pipelines" / "quickstart.yaml"
    path.parent.mkdir()
    path.write_text(text.replace("output: ../out/quickstart", "output: ../out"))
    return path


def test_simulated_videos_are_marked_then_made_for_real(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    manifest, out = quickstart(tmp_path), tmp_path / "out"
    simulated = run_line("run", str(manifest), "--simulate", "--gen-seconds", "0.2")
    assert simulated.exit_code == 0, simulated.output
    assert "3 simulated (not real videos, nothing paid)" in simulated.output

    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [row["simulated"] for row in rows] == [True, True, True]
    lock = json.loads((out / "manifest.lock.json").read_text())
    assert all(job["simulated"] for job in lock["jobs"].values())
    assert "SIMULATED: 3 job(s)" in run_line("status", str(out)).output
    assert json.loads(run_line("status", str(out), "--json").stdout)["simulated"] == 3
    assert 'id="simulated"' in (out / "report.html").read_text()
    plan = json.loads(run_line("plan", str(manifest), "--json").stdout)
    assert (plan["simulated"], plan["to_submit"], plan["done"]) == (3, 3, 0)

    sim = sim_server()
    real = sim.run(manifest)  # the same folder, the manifest's own `output:`
    assert real.exit_code == 0, real.output
    assert "3 job(s) were only simulated: their videos will be made for real" in real.output
    stats = sim.stats()
    assert (stats["submitted"], stats["duplicate_submits"]) == (3, 0)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [row["simulated"] for row in rows] == [False, False, False]
    assert all(row["provider"] == "novita" and row["task_id"] for row in rows)
    assert "SIMULATED" not in run_line("status", str(out)).output
    assert 'id="simulated"' not in (out / "report.html").read_text()

    again = sim.run(manifest)  # and a real folder re-runs without a request
    assert again.exit_code == 0 and sim.stats()["submitted"] == 3


def test_a_simulated_run_will_not_touch_real_tasks_in_flight(tmp_path: Path) -> None:
    """A folder whose real tasks are still at a provider: --simulate refuses, nothing lost."""
    manifest, out = quickstart(tmp_path), tmp_path / "out"
    out.mkdir()
    journal = out / "journal.jsonl"
    run = run_line("plan", str(manifest), "--json")
    key = json.loads(run.stdout)["jobs"][0]["key"]
    journal.write_text(
        '{"ev":"run","jobs":3}\n'
        f'{{"ev":"job","key":"{key}","id":"fox"}}\n'
        f'{{"ev":"submitting","key":"{key}","provider":"novita"}}\n'
        f'{{"ev":"submitted","key":"{key}","task_id":"real-task","cost_usd":0.28}}\n'
    )
    before = journal.read_bytes()
    result = run_line("run", str(manifest), "--simulate")
    assert result.exit_code == 2
    assert "holds 1 real task(s) in flight at novita" in result.output
    assert journal.read_bytes() == before
