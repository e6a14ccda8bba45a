"""Journey 4: a user edits one job's prompt and runs again, then changes their mind and
reverts it. Every paid video stays on disk under a name that cannot collide, the lock
and results point each job at its own file, and the reverted prompt costs nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import run_line
from tests.helpers.sim import SimThread

MANIFEST = """version: 1
provider: novita
output: out
limits: {{concurrency: 4, submit_rate: 100/s}}
jobs:
  - id: fox
    prompt: "{fox}"
  - id: koi
    prompt: "koi at dawn"
"""


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(out: Path) -> dict[str, dict[str, object]]:
    lines = (out / "results.jsonl").read_text().splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


def test_an_edited_prompt_never_overwrites_the_video_already_paid_for(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest, out = tmp_path / "m.yaml", tmp_path / "out"
    manifest.write_text(MANIFEST.format(fox="a red fox in snow"))
    assert sim.run(manifest).exit_code == 0
    first = rows(out)["fox"]
    first_bytes = (out / "videos" / "fox.mp4").read_bytes()

    manifest.write_text(MANIFEST.format(fox="a red fox in snow, at night"))
    edited = sim.run(manifest)
    assert edited.exit_code == 0, edited.output
    assert sim.stats()["submitted"] == 3  # the edited job only
    kept = out / f"videos/fox~{first['key'][:12]}.mp4"  # type: ignore[index]
    assert kept.read_bytes() == first_bytes  # moved aside, byte for byte
    second = rows(out)["fox"]
    assert second["path"] == "videos/fox.mp4" and second["key"] != first["key"]
    assert sha(out / "videos" / "fox.mp4") == second["sha256"]
    lock = json.loads((out / "manifest.lock.json").read_text())
    old = lock["jobs"][first["key"]]
    assert (old["in_manifest"], old["path"], old["sha256"]) == (
        False,
        f"videos/{kept.name}",
        first["sha256"],
    )
    status = run_line("status", str(out))
    assert "1 superseded paid video(s) kept" in status.output and kept.name in status.output
    superseded = json.loads(run_line("status", str(out), "--json").stdout)["superseded"]
    assert [entry["path"] for entry in superseded] == [f"videos/{kept.name}"]
    assert 'id="superseded"' in (out / "report.html").read_text()
    assert run_line("verify", str(out)).exit_code == 0

    manifest.write_text(MANIFEST.format(fox="a red fox in snow"))  # changed my mind
    reverted = sim.run(manifest)
    assert reverted.exit_code == 0, reverted.output
    assert sim.stats()["submitted"] == 3  # the first video is still there: nothing to pay
    back = rows(out)["fox"]
    assert back["key"] == first["key"] and back["path"] == f"videos/{kept.name}"
    assert sha(out / str(back["path"])) == first["sha256"]
    assert sha(out / "videos" / "fox.mp4") == second["sha256"]  # the other one kept too
    assert run_line("verify", str(out)).exit_code == 0
