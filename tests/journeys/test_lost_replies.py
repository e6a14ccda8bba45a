"""Journey 7: submits whose answers are lost, at every provider. A lost reply is adopted
only where a documented task list proves it (GMI, entries with their payload); anywhere
else it is submitted again and counted. Whatever happens: duplicates the simulator saw
are at most the possible duplicates hailuo-batch reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.cli import run_line, write_manifest
from tests.helpers.sim import SimThread

PROVIDERS = ("novita", "highway", "gmi", "aimlapi", "minimax")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_lost_reply_is_paid_twice_unseen(
    provider: str, tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(fault_rate=0.35, faults=("lost-reply",), seed=7, max_concurrent=8)
    manifest = write_manifest(tmp_path, 12, provider=provider, attempts=8)
    result = sim.run(manifest, providers=(provider,))
    assert result.exit_code == 0, result.output
    stats = sim.stats()
    status = json.loads(run_line("status", str(tmp_path / "out"), "--json").stdout)
    assert stats["lost_replies"] >= 1
    assert stats["duplicate_submits"] <= status["possible_duplicates"]
    if provider == "gmi":  # its list shows the lost task with its payload: adopted
        assert stats["duplicate_submits"] == 0 and status["possible_duplicates"] == 0
        journal = (tmp_path / "out" / "journal.jsonl").read_text()
        assert journal.count('"reconciled":true') == stats["lost_replies"]
    else:  # no list can prove it: every lost reply is counted, and it is real
        assert status["possible_duplicates"] == stats["lost_replies"]
        assert stats["duplicate_submits"] == stats["lost_replies"]
