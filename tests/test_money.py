"""Money and faults end to end: the budget cap, failover between providers, lost replies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hailuo_batch.store.fold import load_state
from hailuo_batch.store.lockfile import read_lock
from tests.helpers.cli import run_line, write_manifest
from tests.helpers.sim import SimThread

KEY = "sk-money-test"
PRICES = "prices: {novita: {6s-768P: 0.28}, aimlapi: {6s-768P: 0.30}}\n"


def by_provider(sim: SimThread, name: str, counter: str) -> int:
    return int(sim.stats()["by_provider"][name][counter])


def test_budget_caps_submits_and_a_bigger_budget_finishes_the_rest(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 10, extra=PRICES)
    first = sim.run(manifest, "--budget", "1.00", key=KEY)
    assert first.exit_code == 3, first.output
    assert "budget of $1.00 reached" in first.output
    assert sim.stats()["submitted"] == 3  # 3 x $0.28 = $0.84; a fourth would be $1.12
    status = run_line("status", str(tmp_path / "out"), "--json")
    assert '"spend_usd": 0.84' in status.output
    second = sim.run(manifest, "--budget", "5", key=KEY)
    assert second.exit_code == 0, second.output
    stats = sim.stats()
    assert stats["submitted"] == 10 and stats["duplicate_submits"] == 0
    assert load_state(tmp_path / "out").spend_usd == 2.8


def test_a_budget_without_known_prices_is_refused_before_anything_is_sent(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 2)
    result = sim.run(manifest, "--budget", "3", key=KEY)
    assert result.exit_code == 2
    assert "no price is known for novita: 6s-768P" in result.output
    assert sim.stats()["submitted"] == 0


def test_out_of_balance_provider_fails_over_and_the_lock_says_who_made_each_video(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(outages={"novita": "balance"})
    manifest = write_manifest(tmp_path, 6, provider="[novita, aimlapi]")
    result = sim.run(manifest, key=KEY, providers=("novita", "aimlapi"))
    assert result.exit_code == 0, result.output
    lock = read_lock(tmp_path / "out")
    assert lock is not None
    assert {job.provider for job in lock.jobs.values()} == {"aimlapi"}
    assert all(job.providers_tried == ["novita", "aimlapi"] for job in lock.jobs.values())
    assert by_provider(sim, "novita", "submitted") == 0
    assert by_provider(sim, "aimlapi", "submitted") == 6


def test_a_provider_that_is_down_is_left_for_the_next_one(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(outages={"novita": "down"})
    manifest = write_manifest(tmp_path, 4, provider="[novita, aimlapi]")
    result = sim.run(manifest, key=KEY, providers=("novita", "aimlapi"))
    assert result.exit_code == 0, result.output
    assert by_provider(sim, "aimlapi", "submitted") == 4
    assert load_state(tmp_path / "out").jobs  # and nothing was counted twice:
    assert sim.stats()["duplicate_submits"] == 0


def test_a_lone_provider_that_is_out_of_balance_stops_the_run_with_exit_3(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(outages={"novita": "balance"})
    manifest = write_manifest(tmp_path, 3)
    result = sim.run(manifest, key=KEY)
    assert result.exit_code == 3
    assert "novita is out of balance" in result.output


def test_lost_replies_on_gmi_are_found_by_listing_not_paid_twice(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(fault_rate=0.4, faults=("lost-reply",), seed=3)
    manifest = write_manifest(tmp_path, 12, provider="gmi")
    result = sim.run(manifest, key=KEY, providers=("gmi",))
    assert result.exit_code == 0, result.output
    stats = sim.stats()
    assert stats["lost_replies"] >= 2
    assert stats["duplicate_submits"] == 0
    assert stats["submitted"] == 12
    journal = (tmp_path / "out" / "journal.jsonl").read_text()
    assert journal.count('"reconciled":true') == stats["lost_replies"]


def test_what_aimlapi_says_each_video_cost_is_recorded_with_it(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """AI/ML API reports each task's credits; the state keeps them, in dollars, per video."""
    sim = sim_server()
    manifest = write_manifest(tmp_path, 2, provider="aimlapi")
    result = sim.run(manifest, key=KEY, providers=("aimlapi",))
    assert result.exit_code == 0, result.output
    jobs = load_state(tmp_path / "out").jobs.values()
    assert [job.charged_usd for job in jobs] == [0.06, 0.06]  # 120,000 credits each
