"""Journey 2: a user starts on Novita, stops the run (SIGTERM) with tasks accepted, switches
the manifest to AI/ML API, and runs again. The tasks Novita holds are followed there,
never submitted again; without Novita's key nothing is sent and the message says why."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import TEST_KEY, finish, journal_lines, run_line, write_manifest
from tests.helpers.sim import SimThread


def accepted(out: Path) -> int:
    journal = out / "journal.jsonl"
    if not journal.exists():
        return 0
    return journal.read_text().count('"ev":"submitted"')


def stop_with_tasks_in_flight(sim: SimThread, manifest: Path, jobs: int) -> None:
    child = sim.spawn(manifest)
    deadline = time.monotonic() + 30
    while accepted(manifest.parent / "out") < jobs:
        assert child.poll() is None and time.monotonic() < deadline, "no tasks accepted"
        time.sleep(0.01)
    child.send_signal(signal.SIGTERM)
    output = finish(child, timeout=30)
    assert child.returncode == 3, output
    assert "stopped early: interrupted" in output


def test_tasks_in_flight_are_followed_where_they_are_after_a_switch(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(gen_seconds=2.0, max_concurrent=8)
    manifest = write_manifest(tmp_path, 3)
    stop_with_tasks_in_flight(sim, manifest, 3)
    manifest.write_text(manifest.read_text().replace("provider: novita", "provider: aimlapi"))

    plan = json.loads(run_line("plan", str(manifest), "--json").stdout)
    assert (plan["in_flight"], plan["to_submit"]) == (3, 0)
    assert {job["state"] for job in plan["jobs"]} == {"in flight at novita"}

    before = sim.stats()
    without_key = run_line(
        "run", str(manifest), "--base-url", f"aimlapi={sim.url('aimlapi')}",
        env={"AIMLAPI_API_KEY": TEST_KEY},
    )  # fmt: skip
    assert without_key.exit_code == 3, without_key.output
    assert "novita holds 3 task(s) in flight" in without_key.output
    assert "NOVITA_API_KEY is not set" in without_key.output
    assert sim.stats()["polls"] == before["polls"]  # nothing was sent

    resumed = sim.run(manifest, providers=("aimlapi", "novita"))
    assert resumed.exit_code == 0, resumed.output
    by_provider = sim.stats()["by_provider"]
    assert by_provider["novita"]["submitted"] == 3  # followed there, never sent again
    assert by_provider["aimlapi"]["submitted"] == 0
    lock = json.loads((tmp_path / "out" / "manifest.lock.json").read_text())
    assert {job["provider"] for job in lock["jobs"].values()} == {"novita"}


def test_jobs_finished_at_a_provider_that_left_the_manifest_stay_done(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 2)
    assert sim.run(manifest).exit_code == 0
    manifest.write_text(manifest.read_text().replace("provider: novita", "provider: aimlapi"))
    before, events = sim.stats(), journal_lines(tmp_path / "out")
    again = sim.run(manifest, providers=("aimlapi",))
    assert again.exit_code == 0, again.output
    assert sim.stats()["submitted"] == before["submitted"]
    assert "2 job(s): 2 done" in again.output
    assert journal_lines(tmp_path / "out") > events  # a run was recorded, nothing redone
