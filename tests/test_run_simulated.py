"""The whole `run` command against the simulator: resume, no double pay, exit codes, secrets."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hailuo_batch.store.fold import load_state
from hailuo_batch.store.folder_lock import FolderLock
from tests.helpers.cli import journal_lines, run_line, write_manifest
from tests.helpers.sim import SimThread

KEY = "sk-test-SECRET-9f8e7d"


def videos(folder: Path) -> list[Path]:
    return sorted((folder / "out" / "videos").glob("*.mp4"))


def test_fifty_jobs_through_faults_all_done_none_paid_twice(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(fault_rate=0.2, slow_seconds=0.3, max_concurrent=8)
    # a submit with no answer may have been paid: three in a row (about 1 in 800 here)
    # fail a job rather than pay on; this test is about faults a retry gets through
    manifest = write_manifest(tmp_path, 50, attempts=6)
    result = sim.run(manifest, key=KEY)
    stats = sim.stats()
    assert result.exit_code == 0, result.output
    assert len(videos(tmp_path)) == 50
    assert stats["duplicate_submits"] == 0
    assert stats["faults_injected"] > 10
    state = load_state(tmp_path / "out")
    assert {rec.state for rec in state.jobs.values()} == {"done"}


def test_a_finished_folder_runs_again_without_a_single_request(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 5)
    assert sim.run(manifest, key=KEY).exit_code == 0
    before = sim.stats()
    outputs = [
        tmp_path / "out" / name for name in ("manifest.lock.json", "report.html", "results.jsonl")
    ]
    written = [path.stat().st_mtime_ns for path in outputs]
    result = sim.run(manifest, key=KEY)
    assert result.exit_code == 0
    after = sim.stats()
    for counter in ("submitted", "polls", "downloads"):
        assert after[counter] == before[counter], counter
    assert [path.stat().st_mtime_ns for path in outputs] == written  # nothing rewritten


def test_a_deleted_video_is_fetched_again_not_regenerated(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 3)
    assert sim.run(manifest, key=KEY).exit_code == 0
    lost = videos(tmp_path)[0]
    lost.unlink()
    before = sim.stats()
    assert sim.run(manifest, key=KEY).exit_code == 0
    after = sim.stats()
    assert lost.exists()
    assert after["submitted"] == before["submitted"]
    assert after["downloads"] == before["downloads"] + 1


def test_a_corrupted_video_is_fetched_again(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 2)
    assert sim.run(manifest, key=KEY).exit_code == 0
    target = videos(tmp_path)[0]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    before = sim.stats()
    assert sim.run(manifest, key=KEY).exit_code == 0
    assert sim.stats()["downloads"] == before["downloads"] + 1
    assert target.read_bytes() != bytes(data)


def test_a_refused_key_stops_the_run_at_once_with_exit_3(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(valid_keys={"novita": "the-right-key"})
    manifest = write_manifest(tmp_path, 10)
    result = sim.run(manifest, key=KEY)
    assert result.exit_code == 3, result.output
    assert "refused the API key" in result.output
    assert sim.stats()["submitted"] == 0


def test_tasks_that_keep_failing_end_failed_with_reasons_exit_1(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(task_failure_rate=1.0)
    manifest = write_manifest(tmp_path, 3)
    result = sim.run(manifest, key=KEY)
    assert result.exit_code == 1, result.output
    assert sim.stats()["submitted"] == 9  # max_attempts 3 x 3 jobs
    status = run_line("status", str(tmp_path / "out"))
    assert status.output.count("failed scene-number-") == 3
    assert "after 3 attempts" in status.output


def test_the_api_key_is_written_nowhere(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(fault_rate=0.2, slow_seconds=0.1, task_failure_rate=0.3)
    manifest = write_manifest(tmp_path, 8)
    result = sim.run(manifest, "--json", key=KEY)
    assert KEY not in result.output
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_a_folder_in_use_is_refused_with_exit_3(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 1)
    with FolderLock(tmp_path / "out"):
        result = sim.run(manifest, key=KEY)
    assert result.exit_code == 3
    assert "is in use by another run" in result.output
    assert sim.stats()["submitted"] == 0


def test_a_missing_key_is_exit_2_naming_the_variable(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, 1)
    result = run_line("run", str(manifest))
    assert result.exit_code == 2
    assert "NOVITA_API_KEY is not set" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_killed_at_random_points_then_resumed_nothing_lost_nor_paid_twice(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """SIGKILL lands after a random number of journal events, four times, then a clean run."""
    sim = sim_server(gen_seconds=0.5, max_concurrent=8)
    manifest = write_manifest(tmp_path, 30)
    rng = random.Random(5)
    kills = 0
    for _ in range(4):
        target = journal_lines(tmp_path / "out") + rng.randint(5, 40)
        child = sim.spawn(manifest, key=KEY)
        deadline = time.monotonic() + 30
        while child.poll() is None and journal_lines(tmp_path / "out") < target:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.communicate()
    final = sim.spawn(manifest, key=KEY)
    output = final.communicate(timeout=120)[0].decode()
    assert final.returncode == 0, output
    assert len(videos(tmp_path)) == 30
    stats = sim.stats()
    assert kills >= 3
    assert stats["duplicate_submits"] <= kills
    assert stats["submitted"] - stats["duplicate_submits"] == 30


@pytest.mark.slow
def test_ctrl_c_exits_3_promptly_and_the_next_run_finishes(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(gen_seconds=1.0, max_concurrent=4)
    manifest = write_manifest(tmp_path, 12)
    child = sim.spawn(manifest, key=KEY)
    deadline = time.monotonic() + 30
    while journal_lines(tmp_path / "out") < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child.poll() is None, "the run ended before it could be interrupted"
    child.send_signal(signal.SIGINT)
    started = time.monotonic()
    output = child.communicate(timeout=30)[0].decode()
    assert child.returncode == 3, output
    assert time.monotonic() - started < 5
    assert "stopped early: interrupted" in output
    final = sim.spawn(manifest, key=KEY)
    final.communicate(timeout=120)
    assert final.returncode == 0
    assert len(videos(tmp_path)) == 12
    assert sim.stats()["duplicate_submits"] == 0
