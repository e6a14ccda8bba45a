"""Journey 11: a video made by a provider that has since left the manifest is deleted. The
run does not pretend it expired; `verify` stays red and says how to get it back; with the
provider's key set, the next run fetches it again without paying twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import TEST_KEY, run_line, write_manifest
from tests.helpers.sim import SimThread


def test_a_lost_paid_video_keeps_verify_red_until_it_is_fetched_again(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest, out = write_manifest(tmp_path, 2), tmp_path / "out"
    assert sim.run(manifest).exit_code == 0
    manifest.write_text(manifest.read_text().replace("provider: novita", "provider: aimlapi"))
    lost = sorted((out / "videos").glob("*.mp4"))[0]
    lost.unlink()

    without_key = run_line(
        "run", str(manifest), "--quiet", "--base-url", f"aimlapi={sim.url('aimlapi')}",
        env={"AIMLAPI_API_KEY": TEST_KEY},
    )  # fmt: skip
    assert without_key.exit_code == 0, without_key.output
    assert "1 paid video(s) made by novita are missing or damaged" in without_key.output
    assert "set NOVITA_API_KEY" in without_key.output
    status = json.loads(run_line("status", str(out), "--json").stdout)
    assert status["by_state"] == {"done": 2} and status["failures"] == []  # nothing expired
    verify = run_line("verify", str(out))
    assert verify.exit_code == 1
    assert "the file is missing" in verify.output
    assert "with novita in the manifest or NOVITA_API_KEY set" in verify.output

    before = sim.stats()
    with_key = sim.run(manifest, providers=("aimlapi", "novita"))
    assert with_key.exit_code == 0, with_key.output
    assert lost.exists()
    after = sim.stats()
    assert after["submitted"] == before["submitted"]  # fetched again, not made again
    assert after["downloads"] == before["downloads"] + 1
    assert run_line("verify", str(out)).exit_code == 0
