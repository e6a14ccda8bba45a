"""`run --simulate` resumes like a real provider: the simulator keeps its tasks in the folder."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import orjson

from tests.helpers.cli import ROOT, run_line, spawn

QUICKSTART = str(ROOT / "pipelines" / "quickstart.yaml")


def events(out: Path, kind: str) -> Counter[str]:
    """How many events of `kind` the journal holds, per job key (none before it exists)."""
    counted: Counter[str] = Counter()
    journal = out / "journal.jsonl"
    for line in journal.read_bytes().splitlines() if journal.exists() else ():
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:  # the last line, being written
            continue
        if event.get("ev") == kind:
            counted[event["key"]] += 1
    return counted


def test_a_deleted_video_comes_back_from_the_same_task(tmp_path: Path) -> None:
    """The second run's simulator knows the first run's task, so nothing is generated again."""
    out = tmp_path / "out"
    command = (
        "run",
        QUICKSTART,
        "--simulate",
        "--out",
        str(out),
        "--quiet",
        "--gen-seconds",
        "0.3",
    )
    assert run_line(*command).exit_code == 0
    lost = out / "videos" / "fox.mp4"
    lost.unlink()
    submits = events(out, "submitting")

    result = run_line(*command)
    assert result.exit_code == 0, result.output
    assert lost.exists()
    assert events(out, "submitting") == submits
    assert sum(submits.values()) == 3


def test_a_run_killed_with_tasks_in_flight_resumes_them_without_paying_twice(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    command = ("run", QUICKSTART, "--simulate", "--out", str(out), "--quiet")
    child = spawn(
        *command, "--gen-seconds", "2", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while sum(events(out, "submitted").values()) < 3:
            assert child.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run never submitted its jobs"
            time.sleep(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert not events(out, "done"), "every job finished before the kill"

    result = run_line(*command, "--gen-seconds", "2")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "videos").glob("*.mp4")) == [
        "car.mp4",
        "fox.mp4",
        "koi.mp4",
    ]
    assert sum(events(out, "submitted").values()) == 3
    assert set(events(out, "submitting").values()) == {1}
