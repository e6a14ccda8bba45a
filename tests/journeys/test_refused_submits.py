"""Journey 3: the key is refused (or the balance is empty), the user fixes it and runs again.
Refused submits cost nothing and are no duplicates; a key pasted from a Kubernetes secret
(a trailing newline) just works; a key with a newline inside is refused before sending."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import keys_env, run_line, write_manifest
from tests.helpers.sim import SimThread

PRICES = "prices: {novita: {6s-768P: 0.28}}\n"


def test_a_refused_key_costs_nothing_and_the_fixed_run_pays_each_video_once(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(valid_keys={"novita": "the-right-key"})
    manifest = write_manifest(tmp_path, 4, extra=PRICES)
    refused = sim.run(manifest, key="the-wrong-key")
    assert refused.exit_code == 3, refused.output
    assert "novita refused the API key" in refused.output
    status = json.loads(run_line("status", str(tmp_path / "out"), "--json").stdout)
    assert status["by_state"] == {"pending": 4}
    assert (status["spend_usd"], status["possible_duplicates"]) == (0.0, 0)

    fixed = sim.run(manifest, "--budget", "1.12", key="the-right-key")  # exactly 4 x 0.28
    assert fixed.exit_code == 0, fixed.output
    assert "possible duplicate" not in fixed.output
    stats = sim.stats()
    assert (stats["submitted"], stats["duplicate_submits"]) == (4, 0)
    status = json.loads(run_line("status", str(tmp_path / "out"), "--json").stdout)
    assert (status["spend_usd"], status["possible_duplicates"]) == (1.12, 0)


def test_an_empty_balance_leaves_nothing_to_reconcile(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(outages={"novita": "balance"})
    manifest = write_manifest(tmp_path, 3, extra=PRICES)
    result = sim.run(manifest)
    assert result.exit_code == 3 and "novita is out of balance" in result.output
    journal = (tmp_path / "out" / "journal.jsonl").read_text()
    assert '"ev":"unknown"' not in journal and '"ev":"submitted"' not in journal


def test_a_key_with_a_trailing_newline_works(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(valid_keys={"novita": "sk-from-a-secret-file"})
    manifest = write_manifest(tmp_path, 4)
    result = sim.run(manifest, key="sk-from-a-secret-file\n")
    assert result.exit_code == 0, result.output
    assert sim.stats()["submitted"] == 4


def test_a_key_with_a_newline_inside_is_refused_before_anything_is_sent(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 2)
    env = {**keys_env("x"), "NOVITA_API_KEY": "sk-one\nsk-two"}
    for command, code in (("validate", 0), ("run", 2)):  # validate warns, as for a missing key
        result = run_line(command, str(manifest), env=env)
        assert result.exit_code == code, result.output
        assert "NOVITA_API_KEY contains a control character" in result.output
        assert "sk-one" not in result.output  # the key itself is never shown
    assert sim.stats()["submitted"] == 0
    assert not (tmp_path / "out" / "journal.jsonl").exists()
