"""Journey 6: the environment fails under a run: the disk fills up, the folder is read-only.
One clear line, the documented exit code, never a traceback; state saved, and after space
is freed the resume finishes without paying twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import finish, keys_env, run_line, write_manifest
from tests.helpers.disk import fill, tmpfs
from tests.helpers.sim import SimThread


def done_events(out: Path) -> int:
    journal = out / "journal.jsonl"
    return journal.read_text().count('"ev":"done"') if journal.exists() else 0


def test_a_full_disk_stops_the_run_like_ctrl_c_and_the_resume_pays_nothing_twice(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(gen_seconds=0.6, max_concurrent=4)
    with tmpfs(tmp_path / "disk", "6m") as disk:
        out = disk / "out"
        manifest = write_manifest(tmp_path, 12)
        child = sim.spawn(manifest, "--out", str(out))
        deadline = time.monotonic() + 60
        while done_events(out) < 3:
            assert child.poll() is None and time.monotonic() < deadline, "no video finished"
            time.sleep(0.01)
        ballast = fill(disk)
        output = finish(child, timeout=60)
        assert child.returncode == 3, output
        assert f"the disk of {out} is full" in output and "MB free" in output
        assert "job(s): " in output  # the summary still comes, state saved
        assert done_events(out) < 12

        ballast.unlink()  # space freed
        resumed = sim.run(manifest, "--out", str(out))
        assert resumed.exit_code == 0, resumed.output
        rows = (out / "results.jsonl").read_text().splitlines()
        assert len(rows) == 12 and run_line("verify", str(out)).exit_code == 0
    stats = sim.stats()
    assert stats["submitted"] == 12 and stats["duplicate_submits"] == 0


def test_a_folder_on_a_full_disk_is_refused_before_anything_is_sent(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    with tmpfs(tmp_path / "disk", "2m") as disk:
        fill(disk)
        result = sim.run(write_manifest(tmp_path, 2), "--out", str(disk / "out"))
    assert result.exit_code == 3, result.output
    assert "is full" in result.output
    assert sim.stats()["submitted"] == 0


def test_a_read_only_folder_is_exit_2_before_anything_is_sent(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as read_only:
        result = sim.run(write_manifest(tmp_path, 2), "--out", str(read_only / "out"))
    assert result.exit_code == 2, result.output
    assert "cannot be written to (Read-only file system)" in result.output
    assert sim.stats()["submitted"] == 0


def test_status_of_a_folder_that_is_no_output_folder_is_exit_2(tmp_path: Path) -> None:
    for command in ("status", "verify", "report"):
        result = run_line(command, str(tmp_path), env=keys_env("k"))
        assert result.exit_code == 2, (command, result.output)
        assert "not an output folder" in result.output
