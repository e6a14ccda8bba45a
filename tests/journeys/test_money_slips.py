"""Smaller slips about money seen on the same walk: unknown prices are never shown as
$0.00, and a budget stop is one line, not one per job."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import run_line, write_manifest
from tests.helpers.sim import SimThread


def test_unknown_prices_are_unknown_not_free(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 3)  # no `prices:` and none known for novita
    result = sim.run(manifest)
    assert result.exit_code == 0
    assert "spend unknown (3 submit(s) at an unknown price)" in result.output
    assert "$0.00" not in result.output
    status = run_line("status", str(tmp_path / "out"))
    assert "spend unknown (3 submit(s) at an unknown price)" in status.output
    assert (
        "unknown (3 submit(s) at an unknown price)"
        in (tmp_path / "out" / "report.html").read_text()
    )
    rows = (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    assert {json.loads(row)["cost_usd"] for row in rows} == {None}


def test_a_budget_stop_is_one_line_with_the_count(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 12, extra="prices: {novita: {6s-768P: 0.28}}\n")
    result = sim.run(manifest, "--budget", "0.56")
    assert result.exit_code == 3, result.output
    assert "10 job(s) not submitted: they would exceed the budget" in result.output
    assert result.output.count("would exceed") == 1
